/*
 * kbroker's zero-copy send: a fetch response's record bytes go from the segment file to the client's
 * socket with sendfile(2), as Kafka's FileRecords.writeTo does (TransferableChannel.transferFrom), instead
 * of pread into a buffer and write(2) from it (two copies through user space, a third of the broker's CPU
 * under a consumer load). The send runs on one of libuv's pool threads, so the kernel's TCP work (on
 * loopback, the delivery to the receiver too) leaves the event loop.
 *
 * sendParts(socketFd, parts, stallMs, maxMs, callback): writes `parts` in order, each a Buffer or a file
 * range { fd, position, length }, to the (non-blocking) socket. When the socket's buffer is full it waits
 * for room with poll(2) — at most `stallMs` without progress and `maxMs` in all, so a client that stops
 * reading cannot hold a pool thread; the caller sends the rest through the event loop. The callback gets
 * (errno, partIndex, partOffset, truncated): errno 0 with partIndex === parts.length when all was sent;
 * truncated when a file ended before its range did (the segment was truncated meanwhile).
 *
 * The caller owns every descriptor: the socket's is a dup() kept for the whole send (libuv may close its
 * own when the peer goes away; the dup keeps the number from being reused under this thread), and the
 * files' are dups of the segments' (a segment deleted meanwhile keeps its bytes until they are closed).
 *
 * dup(fd) returns a new descriptor for the same open file (close it with fs.closeSync).
 */
#include "kbroker-native.h" /* Node-API at NAPI_VERSION 8 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Two parts per partition with data; the caller writes a response with more from buffers (zero-copy-sender.ts). */
#define MAX_PARTS 65536
/* sendfile(2) moves at most this much in one call. */
#define MAX_CHUNK 0x7ffff000

typedef struct {
  const char *data; /* a buffer's bytes, or NULL for a file range */
  int fd;
  int64_t position;
  size_t length;
} part_t;

typedef struct {
  napi_async_work work;
  napi_ref callback;
  napi_ref keep; /* the parts array: keeps the buffers alive while the pool thread reads them */
  int sock;
  part_t *parts;
  uint32_t count;
  uint32_t index;
  size_t offset;
  int err;
  int truncated;
  int64_t stall_ms;
  int64_t max_ms;
} job_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *j = data;
  int64_t start = now_ms();
  int64_t progress = start;
  while (j->index < j->count) {
    part_t *p = &j->parts[j->index];
    size_t left = p->length - j->offset;
    if (left == 0) {
      j->index++;
      j->offset = 0;
      continue;
    }
    ssize_t n;
    if (p->data != NULL) {
      /* MSG_MORE: a partition's header and the records after it leave in the same segments. */
      int more = j->index + 1 < j->count ? MSG_MORE : 0;
      n = send(j->sock, p->data + j->offset, left, MSG_NOSIGNAL | MSG_DONTWAIT | more);
    } else {
      off_t pos = (off_t)(p->position + (int64_t)j->offset);
      n = sendfile(j->sock, p->fd, &pos, left > MAX_CHUNK ? MAX_CHUNK : left);
      if (n == 0) {
        j->truncated = 1;
        return;
      }
    }
    if (n > 0) {
      j->offset += (size_t)n;
      progress = now_ms();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      j->err = errno;
      return;
    }
    int64_t t = now_ms();
    int64_t wait = j->stall_ms - (t - progress);
    int64_t total = j->max_ms - (t - start);
    if (total < wait) wait = total;
    if (wait <= 0) return; /* stalled: the caller sends the rest */
    struct pollfd pfd = {.fd = j->sock, .events = POLLOUT, .revents = 0};
    poll(&pfd, 1, (int)wait);
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_value cb, undefined, argv[4];
  napi_get_reference_value(env, j->callback, &cb);
  napi_get_undefined(env, &undefined);
  int err = status == napi_ok ? j->err : ECANCELED;
  napi_create_int32(env, err, &argv[0]);
  napi_create_uint32(env, j->index, &argv[1]);
  napi_create_double(env, (double)j->offset, &argv[2]);
  napi_get_boolean(env, j->truncated != 0, &argv[3]);
  napi_delete_reference(env, j->callback);
  napi_delete_reference(env, j->keep);
  napi_delete_async_work(env, j->work);
  free(j->parts);
  free(j);
  napi_call_function(env, undefined, cb, 4, argv, NULL);
}

#define CHECK(call, message)                                                                       \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, NULL, message);                                                        \
      goto fail;                                                                                   \
    }                                                                                              \
  } while (0)

static int64_t int_property(napi_env env, napi_value obj, const char *name, int *ok) {
  napi_value v;
  int64_t out = -1;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_get_value_int64(env, v, &out) != napi_ok)
    *ok = 0;
  return out;
}

static napi_value send_parts(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  job_t *j = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "sendParts(socketFd, parts, stallMs, maxMs, callback)");
    return NULL;
  }
  j = calloc(1, sizeof(job_t));
  if (j == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int32_t sock;
  CHECK(napi_get_value_int32(env, argv[0], &sock), "socketFd must be a number");
  j->sock = sock;
  uint32_t count;
  CHECK(napi_get_array_length(env, argv[1], &count), "parts must be an array");
  if (count > MAX_PARTS) {
    napi_throw_range_error(env, NULL, "too many parts");
    goto fail;
  }
  CHECK(napi_get_value_int64(env, argv[2], &j->stall_ms), "stallMs must be a number");
  CHECK(napi_get_value_int64(env, argv[3], &j->max_ms), "maxMs must be a number");
  j->parts = calloc(count > 0 ? count : 1, sizeof(part_t));
  if (j->parts == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    goto fail;
  }
  j->count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    bool is_buffer = false;
    CHECK(napi_get_element(env, argv[1], i, &el), "bad part");
    CHECK(napi_is_buffer(env, el, &is_buffer), "bad part");
    part_t *p = &j->parts[i];
    if (is_buffer) {
      void *d;
      size_t len;
      CHECK(napi_get_buffer_info(env, el, &d, &len), "bad buffer part");
      p->data = len > 0 ? d : "";
      p->length = len;
      p->fd = -1;
      continue;
    }
    int ok = 1;
    int64_t fd = int_property(env, el, "fd", &ok);
    int64_t position = int_property(env, el, "position", &ok);
    int64_t length = int_property(env, el, "length", &ok);
    if (!ok || fd < 0 || fd > INT32_MAX || position < 0 || length < 0) {
      napi_throw_type_error(env, NULL, "a file part needs fd, position and length");
      goto fail;
    }
    p->data = NULL;
    p->fd = (int)fd;
    p->position = position;
    p->length = (size_t)length;
  }
  CHECK(napi_create_reference(env, argv[4], 1, &j->callback), "callback");
  CHECK(napi_create_reference(env, argv[1], 1, &j->keep), "parts");
  napi_value name;
  CHECK(napi_create_string_utf8(env, "kbroker.sendParts", NAPI_AUTO_LENGTH, &name), "name");
  CHECK(napi_create_async_work(env, NULL, name, execute, complete, j, &j->work), "async work");
  CHECK(napi_queue_async_work(env, j->work), "queue");
  return NULL;
fail:
  // Whatever was made before the failure (an out-of-memory of N-API's own, in practice) is undone,
  // so the callback and the parts array are not kept alive for ever.
  if (j->work != NULL) napi_delete_async_work(env, j->work);
  if (j->keep != NULL) napi_delete_reference(env, j->keep);
  if (j->callback != NULL) napi_delete_reference(env, j->callback);
  free(j->parts);
  free(j);
  return NULL;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, out;
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, arg, &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "dup(fd)");
    return NULL;
  }
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) {
    // As Node's own errors say it: the errno's name as the code (EMFILE, EBADF), its text in the message.
    char message[128];
    int e = errno;
    snprintf(message, sizeof message, "dup(%d): %s", fd, strerror(e));
    napi_throw_error(env, e == EMFILE ? "EMFILE" : e == EBADF ? "EBADF" : e == ENFILE ? "ENFILE" : NULL, message);
    return NULL;
  }
  napi_create_int32(env, d, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sendParts", NAPI_AUTO_LENGTH, send_parts, NULL, &fn);
  napi_set_named_property(env, exports, "sendParts", fn);
  napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_fd, NULL, &fn);
  napi_set_named_property(env, exports, "dup", fn);
  kbroker_register_crc32c(env, exports);
  return exports;
}
