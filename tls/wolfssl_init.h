// SPDX-License-Identifier: Apache-2.0
/// @file wolfssl_init.h
/// @brief Process-wide wolfSSL initialisation, done once.
#pragma once

namespace dotpin::tls {

/// Calls wolfSSL_Init() once per process (thread-safe); later calls do nothing.
void ensure_wolfssl_initialised();

}  // namespace dotpin::tls
