// SPDX-License-Identifier: Apache-2.0
/// @file wolfssl_init.h
/// @brief Process-wide wolfSSL initialisation, done once.
#pragma once

namespace dotpin::tls {

/// Calls wolfSSL_Init() once per process (thread-safe); later calls do nothing.
void ensure_wolfssl_initialised();

/// Frees the calling thread's ECC point cache (Debian's wolfSSL is built with FP_ECC, which caches
/// tables per thread): a thread that verified or signed with ECC calls it before it ends.
void release_thread_crypto_caches();

}  // namespace dotpin::tls
