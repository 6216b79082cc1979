// SPDX-License-Identifier: Apache-2.0
/// @file pem.h
/// @brief Reading certificates and public keys from PEM or DER files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dotpin {

/// One object found in a file: a certificate, or a bare public key (a "PUBLIC KEY" PEM block or a
/// DER SubjectPublicKeyInfo), which is how a backup key that has no certificate yet is pinned.
struct KeyObject {
  enum class Kind { kCertificate, kPublicKey };
  Kind kind = Kind::kCertificate;
  std::vector<std::uint8_t> der;
  int index = 0;  ///< 1-based position in the file, for messages
  int line = 0;   ///< line of the BEGIN marker (PEM) or 0 (DER)
};

/// Finds every certificate and public key in @p content. PEM is recognised by its BEGIN line and
/// may hold several blocks (a chain); anything else must be a single DER object. Blocks of other
/// kinds (private keys, CSRs) are an error that names the block, since a pin is taken from a public
/// key. @p source names the input in messages.
Result<std::vector<KeyObject>> read_key_objects(std::string_view content, const std::string& source);

/// Reads a whole file ("-" is standard input) into memory; the error names the file and errno.
Result<std::string> read_file(const std::string& path);

}  // namespace dotpin
