// SPDX-License-Identifier: Apache-2.0
/// @file verifier.h
/// @brief The pin check as a pure function: (presented chain, pin set, trust anchors, now) -> verdict.
///
/// Called once per full handshake, before any query is written. What a pin can match:
///  - element 0, the certificate whose key signed the handshake (the server proved it holds it);
///  - a certificate above it only when it is on the *verified path* from element 0: each link's
///    signature checked with the issuer's key (signature.h), issuer and subject names chained,
///    every issuer a CA (basicConstraints cA, keyCertSign where keyUsage is present, no critical
///    extension we do not process), pathLenConstraint respected, and every certificate from
///    element 0 up to the matched one inside its validity at `now`;
///  - in CA mode (trust anchors given) only certificates of a path that reaches a trust anchor,
///    the anchor included, with every certificate on that path inside its validity.
/// The path is built from element 0 by the verifier itself, so chains sent out of order or with
/// unrelated extra certificates still verify; certificates that are not on the path count for
/// nothing, and a pinned key seen only there is reported as kPinNotOnPath (RFC 7469 §2.6 pins
/// the chain validation built, not the bytes the server sent).
///
/// Pin scope and form (pin_set.h). A pin of scope kLeaf (DANE-EE, TLSA usage 3) can match element 0
/// only; one of scope kIssuer (DANE-TA, usage 2) only a certificate at position >= 1 of the verified
/// path (in CA mode the trust anchor the path ended at included, as for any pin); kAnyOnPath
/// (pin-sha256) any certificate of the path. A pin whose digest equals a certificate of the path at
/// a position its scope excludes does not match (kPinWrongPosition). The form says what is hashed,
/// the SPKI or the whole certificate DER, with SHA-256 or SHA-512; every (element, pin) comparison
/// is constant-time (pins_equal).
///
/// Digests on demand. The SPKI SHA-256 of every element is always computed; the other three
/// (certificate SHA-256, SPKI SHA-512, certificate SHA-512) only for the forms the pin span holds,
/// and PinVerdict::forms records which were. Measured on the build machine (wolfCrypt 5.5.4, no SHA
/// CPU extensions, a timing loop over 20000 hashes): SHA-256 ~5.4 ns/byte, SHA-512 ~4.3 ns/byte, so
/// the three extra digests of a 1.2 kB certificate cost ~12 us, against under 1 us for the SHA-256
/// of a P-256 SPKI; always computing them would make the common leaf-pin check (no signature
/// checked) an order of magnitude dearer for pins nobody configured. The consequence: reverify()
/// cannot match a pin of a form the recorded verdict did not compute (it then reports kMismatch,
/// and the connection is drained so that its next full handshake decides, as for a path that was
/// not built).
///
/// The verdict records the path, so a later pin change or the passing of a pin's window can be
/// re-checked without the certificates (reverify()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pinning/cert_view.h"
#include "pinning/certificate.h"
#include "pinning/pin_set.h"

namespace dotpin {

/// Chains longer than this are refused outright; real DoT chains have 2-4 elements.
inline constexpr std::size_t kMaxChainLength = 10;
/// Presented elements plus the trust anchor a CA-mode path may end at.
inline constexpr std::size_t kMaxObserved = kMaxChainLength + 1;

enum class PinVerdictCode {
  kMatch,            ///< a certificate on the verified path holds a key pinned and in its window
  kMismatch,         ///< no presented certificate holds any configured key
  kNoPinInWindow,    ///< a pinned key is on the path, but that pin is outside its window (or none is in one)
  kPinNotOnPath,     ///< a pinned key was presented, but not on the verified path from element 0
  /// A pinned key is on the verified path, but at a position the pin's scope excludes: a leaf-scope
  /// pin (DANE-EE) equal to a CA above the leaf, or an issuer-scope pin (DANE-TA) equal to the leaf.
  /// Neither kPinNotOnPath (nothing pinned is off the path: no sign of an appended certificate) nor
  /// kMismatch (the key is there): the pin, or the TLSA record it came from, names the wrong
  /// certificate (usage 3 published with the CA's key, usage 2 with the server's), and that is what
  /// the operator has to fix. A pin fault like the others: report mode admits it.
  kPinWrongPosition,
  kPathExpired,      ///< the pinned certificate is on the path, but the path is not valid at now
  kPathNotTrusted,   ///< CA mode: no verified path from element 0 reaches a trust anchor
  kNameMismatch,     ///< the leaf is not valid for the authentication domain name (authenticate.h)
  kEmptyChain,       ///< the server presented no certificate
  kChainTooLong,     ///< more than kMaxChainLength elements
  kUnparsableChain,  ///< element 0 is not a well-formed certificate
};

std::string_view to_string(PinVerdictCode code);

/// Why a presented certificate is not on the verified path (the last reason it was turned down as
/// the issuer of a path element).
enum class OffPath : std::uint8_t {
  kNone,            ///< on the path
  kNotIssuerName,   ///< its subject is not the issuer name of any path element
  kBadSignature,    ///< its key did not sign the path element that names it as issuer
  kNotCa,           ///< no basicConstraints cA, or keyUsage without keyCertSign
  kPathLen,         ///< its pathLenConstraint is exceeded
  kUnknownCritical, ///< a critical extension the verifier does not process
  kUnparsable,      ///< not a well-formed certificate
  kBudget,          ///< not checked: the chain used up the verifier's signature-check budget
  kNotChecked,      ///< pin-only mode, the leaf matched: the path above it was not built
};

std::string_view to_string(OffPath why);

/// The bit of @p form in PinVerdict::forms.
[[nodiscard]] constexpr std::uint8_t form_bit(PinForm form) noexcept {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(form));
}

/// One presented certificate (or the trust anchor a path ended at) as the verifier saw it.
struct ObservedPin {
  PinDigest digest{};          ///< SHA-256 of its SPKI (always computed when parsed)
  PinDigest cert_digest{};     ///< SHA-256 of the whole certificate (when forms has kCertSha256)
  PinDigest512 spki_digest512{};  ///< SHA-512 of its SPKI (when forms has kSpkiSha512)
  PinDigest512 cert_digest512{};  ///< SHA-512 of the whole certificate (when forms has kCertSha512)
  bool parsed = false;    ///< its SPKI could be found (the digest is meaningful)
  bool on_path = false;   ///< element 0, or linked to it by verified signatures
  bool anchor = false;    ///< a trust anchor from the CA file, not sent by the server
  std::uint8_t position = 0;     ///< position on the path (0 = element 0), when on_path
  OffPath off_path = OffPath::kNone;
  UnixTime not_before{};  ///< validity of this certificate
  UnixTime not_after{};
  UnixTime path_not_before{};  ///< validity shared by path[0..position] (when on_path)
  UnixTime path_not_after{};
};

struct PinVerdict {
  PinVerdictCode code = PinVerdictCode::kMismatch;
  int matched_pin = -1;          ///< index into the pin set of the in-window pin that matched
  int matched_element = -1;      ///< index into observed of the element that matched (0 = leaf)
  int out_of_window_pin = -1;    ///< a pin that matched on the path but is outside its window
  std::array<ObservedPin, kMaxObserved> observed{};
  std::size_t observed_count = 0;  ///< presented elements, plus one when a CA-mode path ended at an anchor
  std::size_t presented = 0;       ///< elements the server sent (observed[0..presented))
  std::size_t path_length = 0;     ///< certificates on the verified path
  bool ca_mode = false;            ///< trust anchors were given
  /// The pin forms whose digests observed[] holds (form_bit): kSpkiSha256 always, the others only
  /// when the pin span verify_chain was given held them. reverify() never matches another form.
  std::uint8_t forms = form_bit(PinForm::kSpkiSha256);
  bool anchored = false;           ///< CA mode: the path ends at a trust anchor
  /// False when the path above element 0 was not built (pin-only mode, element 0 matched): a
  /// re-check against other pins then cannot match above element 0.
  bool path_complete = true;
  /// Signatures verified with wolfCrypt for this verdict (links already verified on this thread are
  /// taken from its cache; at most 24): a diagnostic, and what the tests hold the budget to.
  std::uint8_t signatures_checked = 0;

  [[nodiscard]] bool matched() const noexcept { return code == PinVerdictCode::kMatch; }
  [[nodiscard]] std::span<const ObservedPin> observed_pins() const noexcept {
    return {observed.data(), observed_count};
  }
  /// Position on the path of the matched certificate (0 = leaf), -1 without a match.
  [[nodiscard]] int matched_position() const noexcept {
    return matched_element < 0 ? -1 : observed[static_cast<std::size_t>(matched_element)].position;
  }
};

/// Builds the verified path of @p chain (leaf first as presented; the rest in any order) and
/// checks it against @p pins at @p now. With @p anchors (DER trust anchors) the path must end at
/// one of them (CA mode). Signatures are checked with wolfCrypt; nothing is allocated.
PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now,
                        std::span<const CertView> anchors = {}) noexcept;
/// The same with anchors as DER (at most 16 are used: for tests and tools).
PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now,
                        std::span<const DerBytes> anchors) noexcept;

/// Re-evaluates a recorded verdict against @p pins at @p now, over the path it recorded: for a pin
/// change, for a pin window that closed, for a ticket about to be offered. A verdict that failed
/// for a structural reason (chain, name, trust) keeps its code. A pin of a form the recorded verdict
/// did not compute (PinVerdict::forms) matches nothing: a fresh handshake has to decide.
PinVerdict reverify(const PinVerdict& recorded, std::span<const Pin> pins, UnixTime now) noexcept;

/// One observed element for an operator: `pin-sha256="..." (on the path)`, `(not on the path:
/// WHY)`, `(trust anchor from the CA file, on the path)`, or `unparsable`. The other digests the
/// verdict computed (PinVerdict::forms) follow the pin-sha256 as a hex prefix, in the form names
/// of pin_set.h: `pin-sha256="..." cert-sha256=0123abcd... (on the path)`.
std::string describe_observed(const PinVerdict& v, std::size_t k);
/// Every observed element on one line: `[0] pin-sha256="..." (on the path) [1] ...`.
std::string describe_observed(const PinVerdict& v);

/// Whether a connection may carry queries: a match in any mode; in `report` mode also a chain
/// that is well formed, for the right name and (CA mode) trusted, whose only fault is its pins.
/// Report mode never admits a session that presented no certificate.
[[nodiscard]] bool admits(PinMode mode, const PinVerdict& v) noexcept;

}  // namespace dotpin
