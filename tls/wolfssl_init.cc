// SPDX-License-Identifier: Apache-2.0
#include "tls/wolfssl_init.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <cstdlib>
#include <mutex>

namespace dotpin::tls {

void ensure_wolfssl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    wolfSSL_Init();
    std::atexit([] { wolfSSL_Cleanup(); });
  });
}

void release_thread_crypto_caches() { wc_ecc_fp_free(); }

}  // namespace dotpin::tls
