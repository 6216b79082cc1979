// SPDX-License-Identifier: Apache-2.0
/// @file bench_pki.h
/// @brief The test PKI for benchmarks: DOTPIN_TEST_PKI, else the build's (tests/pki/meson.build).
#pragma once

#include <cstdlib>
#include <string>

#include "pinning/pem.h"

namespace dotpin::bench {

inline std::string pki_path(const std::string& name) {
  const char* dir = std::getenv("DOTPIN_TEST_PKI");
  return std::string(dir ? dir : DOTPIN_DEFAULT_PKI) + "/" + name;
}

/// The reference pin of a PKI object (its .pin file), or "" if missing.
inline std::string reference_pin(const std::string& stem) {
  auto text = read_file(pki_path(stem + ".pin"));
  std::string s = text.ok() ? *text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace dotpin::bench
