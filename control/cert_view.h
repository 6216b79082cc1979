// SPDX-License-Identifier: Apache-2.0
/// @file cert_view.h
/// @brief How dotpinctl shows a certificate or public key and its pin, as text and as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

#include "pinning/certificate.h"
#include "pinning/spki_pin.h"

namespace dotpin::ctl {

/// What is shown for one certificate or bare public key.
struct KeyView {
  std::string heading;                  ///< "[0] leaf" or "leaf.pem #1"
  const Certificate* cert = nullptr;    ///< null for a bare public key
  std::string key;                      ///< "RSA-2048"
  PinDigest pin{};
};

nlohmann::json to_json(const KeyView& v, UnixTime now);
void print_text(std::ostream& out, const KeyView& v, UnixTime now, bool hex);

}  // namespace dotpin::ctl
