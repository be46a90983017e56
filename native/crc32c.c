/*
 * CRC-32C (Castagnoli) of a Uint8Array with the CPU's own instruction (SSE 4.2 `crc32`, eight bytes
 * a step, three streams at once): every produced batch's checksum is verified with it on the event loop. Exported as
 * `crc32c` only where the CPU has the instruction (checked at load); elsewhere the module leaves it
 * out and src/protocol/record-batch.ts uses its library.
 */
#include "kbroker-native.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>

/*
 * The instruction takes three cycles and depends on the previous step, so one running CRC does eight
 * bytes per three cycles. Three running at once over three adjacent blocks keep the unit busy; the
 * three are joined after each round with the identity crc(A B) = shift(crc(A), |B|) ^ crc(B) (raw
 * registers, from an initial 0 for B), where shift — the register run through |B| zero bytes — is
 * linear, so one table per byte of the register gives it (four lookups). Two block sizes: LONG for
 * large batches, SHORT for the tail and for small ones (a 10 KiB batch takes thirteen short rounds).
 */
#define POLY 0x82f63b78u /* CRC-32C, bits reflected */
#define LONG 8192
#define SHORT 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];

/* A 32x32 matrix over GF(2) (column i: the image of bit i) applied to a vector. */
static uint32_t gf2_apply(const uint32_t *m, uint32_t v) {
  uint32_t out = 0;
  for (int i = 0; v != 0; i++, v >>= 1)
    if (v & 1) out ^= m[i];
  return out;
}

/* out = a after b (out may not alias either). */
static void gf2_compose(uint32_t *out, const uint32_t *a, const uint32_t *b) {
  for (int i = 0; i < 32; i++) out[i] = gf2_apply(a, b[i]);
}

/* The table of the register run through `bytes` zero bytes: t[k][v] = shift(v << 8k). */
static void make_shift_table(uint32_t t[4][256], size_t bytes) {
  uint32_t step[32], acc[32], tmp[32];
  /* One zero bit: the register shifts right, the polynomial xored in when the bit out was set. */
  step[0] = POLY;
  for (int i = 1; i < 32; i++) step[i] = 1u << (i - 1);
  for (int i = 0; i < 32; i++) acc[i] = 1u << i; /* identity */
  for (size_t bits = bytes * 8; bits != 0; bits >>= 1) {
    if (bits & 1) {
      gf2_compose(tmp, step, acc);
      memcpy(acc, tmp, sizeof acc);
    }
    gf2_compose(tmp, step, step); /* step for twice as many bits */
    memcpy(step, tmp, sizeof step);
  }
  for (int k = 0; k < 4; k++)
    for (uint32_t v = 0; v < 256; v++) t[k][v] = gf2_apply(acc, v << (8 * k));
}

static uint32_t shift(const uint32_t t[4][256], uint32_t c) {
  return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

#if defined(__x86_64__)
/* Rounds of three adjacent blocks of `block` bytes (p 8-byte aligned) while they fit. */
__attribute__((target("sse4.2"))) static uint64_t crc32c_rounds(uint64_t c, const uint8_t **pp, size_t *np,
                                                                 size_t block, const uint32_t t[4][256]) {
  const uint8_t *p = *pp;
  size_t n = *np;
  while (n >= 3 * block) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t *end = p + block;
    do {
      uint64_t a, b, d;
      memcpy(&a, p, 8);
      memcpy(&b, p + block, 8);
      memcpy(&d, p + 2 * block, 8);
      c = _mm_crc32_u64(c, a);
      c1 = _mm_crc32_u64(c1, b);
      c2 = _mm_crc32_u64(c2, d);
      p += 8;
    } while (p < end);
    c = shift(t, (uint32_t)c) ^ (uint32_t)c1;
    c = shift(t, (uint32_t)c) ^ (uint32_t)c2;
    p += 2 * block;
    n -= 3 * block;
  }
  *pp = p;
  *np = n;
  return c;
}
#endif

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    n--;
  }
#if defined(__x86_64__)
  uint64_t c64 = c;
  c64 = crc32c_rounds(c64, &p, &n, LONG, shift_long);
  c64 = crc32c_rounds(c64, &p, &n, SHORT, shift_short);
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
  make_shift_table(shift_long, LONG);
  make_shift_table(shift_short, SHORT);
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
