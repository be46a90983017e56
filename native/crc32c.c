/*
 * CRC-32C (Castagnoli) of a Uint8Array with the CPU's own instruction (SSE 4.2 `crc32`, eight bytes
 * a step): every produced batch's checksum is verified with it on the event loop. Exported as
 * `crc32c` only where the CPU has the instruction (checked at load); elsewhere the module leaves it
 * out and src/protocol/record-batch.ts uses its library.
 */
#include "kbroker-native.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    n--;
  }
#if defined(__x86_64__)
  uint64_t c64 = c;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
  }
  c = (uint32_t)c64;
#endif
  for (; n >= 4; p += 4, n -= 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    c = _mm_crc32_u32(c, v);
  }
  while (n-- > 0) c = _mm_crc32_u8(c, *p++);
  return ~c;
}

static napi_value crc32c_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, out;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, arg, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "crc32c(Uint8Array)");
    return NULL;
  }
  napi_create_uint32(env, crc32c_sse42(length > 0 ? data : "", length), &out);
  return out;
}

void kbroker_register_crc32c(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2")) return;
  napi_value fn;
  napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c_js, NULL, &fn);
  napi_set_named_property(env, exports, "crc32c", fn);
}
#else
void kbroker_register_crc32c(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
}
#endif
