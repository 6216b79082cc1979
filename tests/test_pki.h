// SPDX-License-Identifier: Apache-2.0
/// @file test_pki.h
/// @brief Access to the throw-away PKI that tests/pki/make-test-pki.sh generates at build time.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <span>
#include <vector>

namespace dotpin::test {

/// The PKI directory (DOTPIN_TEST_PKI, set by meson for every test).
inline std::string pki_dir() {
  const char* dir = std::getenv("DOTPIN_TEST_PKI");
  return dir ? dir : "";
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A file of the test PKI, as text.
inline std::string pki_file(const std::string& name) { return read_text(pki_dir() + "/" + name); }

/// The reference pin (openssl pipeline) of a PKI object, without the newline.
inline std::string reference_pin(const std::string& stem) {
  std::string s = pki_file(stem + ".pin");
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

/// The certificates of a PEM file of the test PKI as DER, with spans over them (what a server
/// presents, as the verifier takes it).
struct PkiChain {
  std::vector<std::vector<std::uint8_t>> ders;
  std::vector<std::span<const std::uint8_t>> spans;
};

#define DOTPIN_REQUIRE_PKI()                                                   \
  do {                                                                         \
    if (::dotpin::test::pki_dir().empty()) GTEST_FAIL() << "DOTPIN_TEST_PKI not set"; \
  } while (0)

}  // namespace dotpin::test
