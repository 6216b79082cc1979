// SPDX-License-Identifier: Apache-2.0
#include "pinning/tlsa.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/encoding.h"
#include "pinning/spki_pin.h"

namespace dotpin {
namespace {

/// The checks parse_tlsa_rdata and parse_tlsa_presentation share, on the fields and data length.
Status check_fields(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, std::size_t size) {
  if (usage > tlsa::kDaneEe) return fail("unknown certificate usage ", std::to_string(usage), " (known: 0-3)");
  if (selector > tlsa::kSelectorSpki)
    return fail("unknown selector ", std::to_string(selector), " (0 full certificate, 1 SubjectPublicKeyInfo)");
  switch (mtype) {
    case tlsa::kFull:
      if (size == 0) return fail("matching type 0 (full data) with no data");
      if (size > tlsa::kMaxFullData)
        return fail("matching type 0 data of ", std::to_string(size), " octets (at most ",
                    std::to_string(tlsa::kMaxFullData), ")");
      return ok_status();
    case tlsa::kSha256:
      if (size != 32) return fail("matching type 1 (SHA-256) with ", std::to_string(size), " octets of data, not 32");
      return ok_status();
    case tlsa::kSha512:
      if (size != 64) return fail("matching type 2 (SHA-512) with ", std::to_string(size), " octets of data, not 64");
      return ok_status();
    default:
      return fail("unknown matching type ", std::to_string(mtype), " (0 full, 1 SHA-256, 2 SHA-512)");
  }
}

/// One decimal field of 0-255 at the front of @p text, and the white space after it.
std::optional<std::uint8_t> take_field(std::string_view& text) {
  unsigned value = 256;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data() || value > 255) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  if (!text.empty() && text.front() != ' ' && text.front() != '\t') return std::nullopt;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return static_cast<std::uint8_t>(value);
}

}  // namespace

Result<TlsaRecord> parse_tlsa_rdata(std::span<const std::uint8_t> rdata) {
  // Three octets of fields and at least one of data: matching type 0 needs data, 1 and 2 a digest.
  if (rdata.size() < 4) return fail("TLSA RDATA of ", std::to_string(rdata.size()), " octets (at least 4)");
  if (auto ok = check_fields(rdata[0], rdata[1], rdata[2], rdata.size() - 3); !ok) return Error{ok.error()};
  return TlsaRecord{rdata[0], rdata[1], rdata[2], {rdata.begin() + 3, rdata.end()}};
}

std::vector<std::uint8_t> tlsa_rdata(const TlsaRecord& record) {
  // Sized once and filled (GCC 12 warns, wrongly, about growing a vector built from a list).
  std::vector<std::uint8_t> out(3 + record.data.size());
  out[0] = record.usage;
  out[1] = record.selector;
  out[2] = record.matching_type;
  std::copy(record.data.begin(), record.data.end(), out.begin() + 3);
  return out;
}

std::string to_presentation(const TlsaRecord& record) {
  return std::to_string(record.usage) + " " + std::to_string(record.selector) + " " +
         std::to_string(record.matching_type) + " " + hex_encode(record.data);
}

Result<TlsaRecord> parse_tlsa_presentation(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  TlsaRecord r;
  const auto usage = take_field(text), selector = usage ? take_field(text) : std::nullopt,
             mtype = selector ? take_field(text) : std::nullopt;
  if (!mtype) return fail("expected 'USAGE SELECTOR MATCHING-TYPE DATA' with three numbers of 0-255");
  std::string hex;
  for (const char c : text) {
    if (c == ':') return fail("association data is not hex");  // hex_decode would take 'ab:cd'
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') hex += c;
  }
  // hex_decode takes either case; an odd count or another character is not hex.
  auto data = hex_decode(hex);
  if (!data) return fail("association data is not hex");
  if (auto ok = check_fields(*usage, *selector, *mtype, data->size()); !ok) return Error{ok.error()};
  r.usage = *usage;
  r.selector = *selector;
  r.matching_type = *mtype;
  r.data = std::move(*data);
  return r;
}

Result<Pin> pin_from_tlsa(const TlsaRecord& record) {
  if (auto ok = check_fields(record.usage, record.selector, record.matching_type, record.data.size()); !ok)
    return Error{ok.error()};
  Pin pin;
  pin.origin = PinOrigin::kDane;
  switch (record.usage) {
    case tlsa::kDaneEe: pin.scope = PinScope::kLeaf; break;
    case tlsa::kDaneTa: pin.scope = PinScope::kIssuer; break;
    case tlsa::kPkixTa:
    case tlsa::kPkixEe:
      return fail("usage ", std::to_string(record.usage), record.usage == tlsa::kPkixTa ? " (PKIX-TA)" : " (PKIX-EE)",
                  " also requires PKIX validation against public CAs, which a pin cannot express; dotpin "
                  "uses only usages 3 (DANE-EE) and 2 (DANE-TA), as RFC 7673 section 3 recommends");
  }
  const bool cert = record.selector == tlsa::kSelectorCert;
  switch (record.matching_type) {
    case tlsa::kFull: {
      // The data must be what the selector says, or no element could ever be those bytes.
      if (cert ? !find_spki(record.data).has_value() : !parse_spki(record.data).ok())
        return fail("matching type 0 data is not one DER ", cert ? "certificate" : "SubjectPublicKeyInfo");
      pin.form = cert ? PinForm::kCertSha256 : PinForm::kSpkiSha256;
      pin.digest = spki_sha256(record.data);
      break;
    }
    case tlsa::kSha256:
      pin.form = cert ? PinForm::kCertSha256 : PinForm::kSpkiSha256;
      std::copy(record.data.begin(), record.data.end(), pin.digest.begin());
      break;
    case tlsa::kSha512:
      pin.form = cert ? PinForm::kCertSha512 : PinForm::kSpkiSha512;
      std::copy(record.data.begin(), record.data.end(), pin.digest512.begin());
      break;
  }
  return pin;
}

Result<TlsaRecord> tlsa_for_certificate(DerBytes cert, std::uint8_t usage, std::uint8_t selector,
                                        std::uint8_t matching_type) {
  auto parsed = parse_certificate(cert);
  if (!parsed) return Error{parsed.error()};
  const DerBytes selected = selector == tlsa::kSelectorCert ? parsed->der : parsed->spki;
  TlsaRecord r{usage, selector, matching_type, {}};
  switch (matching_type) {
    case tlsa::kFull: r.data.assign(selected.begin(), selected.end()); break;
    case tlsa::kSha256: {
      const PinDigest d = spki_sha256(selected);
      r.data.assign(d.begin(), d.end());
      break;
    }
    case tlsa::kSha512: {
      const PinDigest512 d = sha512_of(selected);
      r.data.assign(d.begin(), d.end());
      break;
    }
    default: break;  // refused just below
  }
  if (auto ok = check_fields(usage, selector, matching_type, r.data.size()); !ok) return Error{ok.error()};
  return r;
}

}  // namespace dotpin
