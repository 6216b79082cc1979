// SPDX-License-Identifier: Apache-2.0
/// @file pin_set.h
/// @brief The pin model: pins with labels and validity windows, grouped per upstream.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "common/time_util.h"
#include "pinning/spki_pin.h"

namespace dotpin {

/// What happens when an upstream's chain matches none of its pins.
enum class PinMode {
  kEnforce,  ///< refuse the connection (the default)
  kReport,   ///< connect anyway, count and log the mismatch (for staging a rollover)
};

std::string_view to_string(PinMode mode);
std::optional<PinMode> pin_mode_from_string(std::string_view text);

/// Where an upstream's pins come from, besides any the operator wrote in the pin file (the pin file
/// key `pins_from`). The control plane composes the table it publishes from all of them
/// (control/pin_publisher.h); the data plane sees only the result and checks every pin alike.
enum class PinsFrom : std::uint8_t {
  kFile,  ///< only the operator's pins (the default)
  kTofu,  ///< trust on first use: the control plane learns the key of the first verified handshake
  kDane,  ///< DNSSEC-validated TLSA records at _853._tcp.<auth_name>, refreshed within their TTL
};
std::string_view to_string(PinsFrom from);
std::optional<PinsFrom> pins_from_from_string(std::string_view text);

/// What a TOFU upstream learns (pin file key `learn`).
enum class TofuLearn : std::uint8_t {
  kLeaf,           ///< the key of the certificate that signed the handshake
  kLeafAndIssuer,  ///< that and the key of its issuer on the verified path
};
std::string_view to_string(TofuLearn learn);
std::optional<TofuLearn> tofu_learn_from_string(std::string_view text);

/// Who put a pin in the table.
enum class PinOrigin : std::uint8_t {
  kFile,  ///< the operator's pin file
  kTofu,  ///< learned on first use (the TOFU state file)
  kDane,  ///< a DNSSEC-validated TLSA record
};
std::string_view to_string(PinOrigin origin);

/// Which certificates of the verified path a pin may match.
enum class PinScope : std::uint8_t {
  kAnyOnPath,  ///< any certificate on the verified path (pin-sha256, RFC 7469)
  kLeaf,       ///< only element 0 (DANE-EE, TLSA usage 3)
  kIssuer,     ///< only a certificate above element 0 on the verified path (DANE-TA, usage 2)
};
std::string_view to_string(PinScope scope);

/// What a pin's digest is computed over (TLSA selector and matching type; RFC 6698 §2.1). A TLSA
/// record of matching type 0 (the full data) is held as the SHA-256 of that data.
enum class PinForm : std::uint8_t {
  kSpkiSha256,  ///< SHA-256 of the SubjectPublicKeyInfo (pin-sha256; TLSA x 1 1)
  kCertSha256,  ///< SHA-256 of the whole certificate (TLSA x 0 1, x 0 0)
  kSpkiSha512,  ///< SHA-512 of the SubjectPublicKeyInfo (TLSA x 1 2)
  kCertSha512,  ///< SHA-512 of the whole certificate (TLSA x 0 2)
};
std::string_view to_string(PinForm form);
/// True for the forms whose digest is held in Pin::digest512.
[[nodiscard]] constexpr bool is_sha512(PinForm form) noexcept {
  return form == PinForm::kSpkiSha512 || form == PinForm::kCertSha512;
}
/// True for the forms computed over the whole certificate rather than its SPKI.
[[nodiscard]] constexpr bool is_certificate_form(PinForm form) noexcept {
  return form == PinForm::kCertSha256 || form == PinForm::kCertSha512;
}
// PinDigest512 (SHA-512, the digest of the SHA-512 forms) is declared in spki_pin.h.

/// One pin-sha256 value with its operator metadata.
struct Pin {
  PinDigest digest{};
  std::string label;                  ///< "primary", "backup", ... (may be empty)
  std::optional<UnixTime> not_before;  ///< inclusive
  std::optional<UnixTime> not_after;   ///< exclusive: the pin stops counting at this instant
  int line = 0;                       ///< where it was configured, for messages
  PinForm form = PinForm::kSpkiSha256;  ///< what @ref digest (or @ref digest512) is computed over
  PinDigest512 digest512{};            ///< the digest for the SHA-512 forms (digest unused then)
  PinScope scope = PinScope::kAnyOnPath;
  PinOrigin origin = PinOrigin::kFile;
  std::optional<UnixTime> learned_at;  ///< TOFU: when it was learned; DANE: when the RRset was fetched
  std::string learned_from;            ///< TOFU: the address(es) it was learned from; DANE: the owner name

  /// True when @p now lies in [not_before, not_after).
  [[nodiscard]] bool in_window(UnixTime now) const noexcept {
    return (!not_before || now >= *not_before) && (!not_after || now < *not_after);
  }
  /// "'backup' (abc...=)" style name for messages: the label if any, else the first 8 base64 chars.
  [[nodiscard]] std::string display_name() const;
};

/// The pin set and identity of one DoT upstream.
struct UpstreamPins {
  std::string name;       ///< operator's name, unique in a table; used in stats and metrics labels
  Endpoint address;       ///< IP literal and port (853 by default)
  std::string auth_name;  ///< authentication domain name: SNI and name check (may be empty)
  PinMode mode = PinMode::kEnforce;
  std::vector<Pin> pins;
  int line = 0;           ///< line of its [[upstream]] header
  PinsFrom pins_from = PinsFrom::kFile;
  TofuLearn learn = TofuLearn::kLeaf;    ///< kTofu: what is learned
  bool tofu_without_ca = false;          ///< kTofu: learn without a CA file (operator's explicit choice)
  std::vector<Endpoint> learn_from;      ///< kTofu: addresses that must all present the same key (empty: address)
  std::uint16_t tlsa_port = 853;         ///< kDane: the TLSA owner is _<tlsa_port>._tcp.<auth_name>

  /// Pins valid at @p now.
  [[nodiscard]] std::size_t pins_in_window(UnixTime now) const noexcept;
};

/// Every upstream's pins, as loaded from one source.
struct PinTable {
  std::vector<UpstreamPins> upstreams;
  std::string source;  ///< file path or other origin, for messages

  [[nodiscard]] const UpstreamPins* find(std::string_view name) const noexcept;
};

}  // namespace dotpin
