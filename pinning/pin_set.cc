// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_set.h"

#include <algorithm>
#include <span>

#include "common/encoding.h"

namespace dotpin {

std::string_view to_string(PinMode mode) {
  switch (mode) {
    case PinMode::kEnforce: return "enforce";
    case PinMode::kReport: return "report";
  }
  return "?";
}

std::optional<PinMode> pin_mode_from_string(std::string_view text) {
  if (text == "enforce") return PinMode::kEnforce;
  if (text == "report") return PinMode::kReport;
  return std::nullopt;
}

std::string_view to_string(PinsFrom from) {
  switch (from) {
    case PinsFrom::kFile: return "file";
    case PinsFrom::kTofu: return "tofu";
    case PinsFrom::kDane: return "dane";
  }
  return "?";
}

std::optional<PinsFrom> pins_from_from_string(std::string_view text) {
  if (text == "file") return PinsFrom::kFile;
  if (text == "tofu") return PinsFrom::kTofu;
  if (text == "dane") return PinsFrom::kDane;
  return std::nullopt;
}

std::string_view to_string(TofuLearn learn) {
  return learn == TofuLearn::kLeaf ? "leaf" : "leaf+issuer";
}

std::optional<TofuLearn> tofu_learn_from_string(std::string_view text) {
  if (text == "leaf") return TofuLearn::kLeaf;
  if (text == "leaf+issuer") return TofuLearn::kLeafAndIssuer;
  return std::nullopt;
}

std::string_view to_string(PinOrigin origin) {
  switch (origin) {
    case PinOrigin::kFile: return "file";
    case PinOrigin::kTofu: return "tofu";
    case PinOrigin::kDane: return "dane";
  }
  return "?";
}

std::string_view to_string(PinScope scope) {
  switch (scope) {
    case PinScope::kAnyOnPath: return "path";
    case PinScope::kLeaf: return "leaf";
    case PinScope::kIssuer: return "issuer";
  }
  return "?";
}

std::string_view to_string(PinForm form) {
  switch (form) {
    case PinForm::kSpkiSha256: return "spki-sha256";
    case PinForm::kCertSha256: return "cert-sha256";
    case PinForm::kSpkiSha512: return "spki-sha512";
    case PinForm::kCertSha512: return "cert-sha512";
  }
  return "?";
}

std::string Pin::display_name() const {
  if (!label.empty()) return "'" + label + "'";
  if (form == PinForm::kSpkiSha256 && origin != PinOrigin::kDane) return "'" + pin_base64(digest).substr(0, 8) + "...'";
  // The first 4 bytes of the digest in hex, as a TLSA record or a zone file shows them.
  const std::string hex = is_sha512(form) ? hex_encode(std::span(digest512).first(4)) : hex_encode(std::span(digest).first(4));
  if (origin == PinOrigin::kDane && scope != PinScope::kAnyOnPath) {
    // The record it came from: usage, selector, matching type (a matching-type 0 record is held as
    // the SHA-256 of its data, and shows as matching type 1).
    const char usage = scope == PinScope::kLeaf ? '3' : '2';
    const char selector = is_certificate_form(form) ? '0' : '1';
    const char mtype = is_sha512(form) ? '2' : '1';
    return std::string("'TLSA ") + usage + ' ' + selector + ' ' + mtype + ' ' + hex + "...'";
  }
  return "'" + std::string(to_string(form)) + ' ' + hex + "...'";
}

std::size_t UpstreamPins::pins_in_window(UnixTime now) const noexcept {
  return static_cast<std::size_t>(std::ranges::count_if(pins, [&](const Pin& p) { return p.in_window(now); }));
}

const UpstreamPins* PinTable::find(std::string_view name) const noexcept {
  for (const auto& u : upstreams)
    if (u.name == name) return &u;
  return nullptr;
}

}  // namespace dotpin
