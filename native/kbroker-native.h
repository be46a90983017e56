/* The pieces of build/kbroker_native.node (one module, built by scripts/build-native.mjs). */
#ifndef KBROKER_NATIVE_H
#define KBROKER_NATIVE_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

/* Adds `crc32c(data)` to the exports where the CPU has a CRC-32C instruction (native/crc32c.c). */
void kbroker_register_crc32c(napi_env env, napi_value exports);

#endif
