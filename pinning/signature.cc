// SPDX-License-Identifier: Apache-2.0
#include "pinning/signature.h"

// wolfSSL wants its build options before any of its headers.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/ed448.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/sha512.h>

#include <algorithm>
#include <array>

#include "pinning/der.h"

namespace dotpin {
namespace {

using der::Reader;
using der::Tlv;
using Oid = std::span<const std::uint8_t>;

constexpr std::array<std::uint8_t, 9> kOidRsaEncryption{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
constexpr std::array<std::uint8_t, 9> kOidRsaPss{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
constexpr std::array<std::uint8_t, 9> kOidMgf1{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
constexpr std::array<std::uint8_t, 9> kOidSha256Rsa{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
constexpr std::array<std::uint8_t, 9> kOidSha384Rsa{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
constexpr std::array<std::uint8_t, 9> kOidSha512Rsa{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
constexpr std::array<std::uint8_t, 7> kOidEcPublicKey{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::array<std::uint8_t, 8> kOidEcdsaSha256{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::array<std::uint8_t, 8> kOidEcdsaSha384{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr std::array<std::uint8_t, 8> kOidEcdsaSha512{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
constexpr std::array<std::uint8_t, 3> kOidEd25519{0x2b, 0x65, 0x70};
constexpr std::array<std::uint8_t, 3> kOidEd448{0x2b, 0x65, 0x71};
constexpr std::array<std::uint8_t, 9> kOidSha256{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
constexpr std::array<std::uint8_t, 9> kOidSha384{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
constexpr std::array<std::uint8_t, 9> kOidSha512{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};

/// RSA keys below this size are not accepted as issuers (NIST SP 800-131A: 2048 since 2014), nor
/// above this one (verification cost).
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

template <std::size_t N>
bool is(Oid oid, const std::array<std::uint8_t, N>& want) noexcept {
  return std::ranges::equal(oid, want);
}

enum class Hash { kNone, kSha256, kSha384, kSha512 };

std::size_t digest_size(Hash h) noexcept {
  switch (h) {
    case Hash::kSha256: return 32;
    case Hash::kSha384: return 48;
    case Hash::kSha512: return 64;
    case Hash::kNone: break;
  }
  return 0;
}

wc_HashType wc_type(Hash h) noexcept {
  switch (h) {
    case Hash::kSha256: return WC_HASH_TYPE_SHA256;
    case Hash::kSha384: return WC_HASH_TYPE_SHA384;
    case Hash::kSha512: return WC_HASH_TYPE_SHA512;
    case Hash::kNone: break;
  }
  return WC_HASH_TYPE_NONE;
}

int mgf_for(Hash h) noexcept {
  switch (h) {
    case Hash::kSha256: return WC_MGF1SHA256;
    case Hash::kSha384: return WC_MGF1SHA384;
    case Hash::kSha512: return WC_MGF1SHA512;
    case Hash::kNone: break;
  }
  return WC_MGF1NONE;
}

/// Hashes @p data; false if the library reports anything but success.
bool digest(Hash h, DerBytes data, std::array<std::uint8_t, 64>& out) noexcept {
  const auto* p = data.data();
  const auto n = static_cast<word32>(data.size());
  switch (h) {
    case Hash::kSha256: return wc_Sha256Hash(p, n, out.data()) == 0;
    case Hash::kSha384: return wc_Sha384Hash(p, n, out.data()) == 0;
    case Hash::kSha512: return wc_Sha512Hash(p, n, out.data()) == 0;
    case Hash::kNone: break;
  }
  return false;
}

Hash hash_of(Oid oid) noexcept {
  if (is(oid, kOidSha256)) return Hash::kSha256;
  if (is(oid, kOidSha384)) return Hash::kSha384;
  if (is(oid, kOidSha512)) return Hash::kSha512;
  return Hash::kNone;
}

/// HashAlgorithm ::= AlgorithmIdentifier { OID, NULL or nothing }
Hash read_hash_algorithm(DerBytes alg_tlv) noexcept {
  Reader outer(alg_tlv);
  Tlv seq, oid, params;
  if (!outer.expect(der::kSequence, seq) || !outer.at_end()) return Hash::kNone;
  Reader r(seq.value);
  if (!r.expect(der::kOid, oid)) return Hash::kNone;
  if (!r.at_end() && (!r.expect(der::kNull, params) || !params.value.empty() || !r.at_end())) return Hash::kNone;
  return hash_of(oid.value);
}

enum class Scheme { kUnknown, kRsaPkcs1, kRsaPss, kEcdsa, kEd25519, kEd448 };

struct Algorithm {
  Scheme scheme = Scheme::kUnknown;
  Hash hash = Hash::kNone;
  int salt_len = 0;  // PSS only
  bool malformed = false;
};

/// RSASSA-PSS-params (RFC 4055 §3.1). The SHA-1 defaults are refused, so hash and MGF must be
/// present and agree; the salt length defaults to 20; the trailer field must be 1 when present.
Algorithm read_pss_params(Reader& r) noexcept {
  Algorithm a;
  a.scheme = Scheme::kRsaPss;
  Tlv params;
  if (!r.expect(der::kSequence, params) || !r.at_end()) return a.malformed = true, a;
  Reader p(params.value);
  Tlv f;
  std::uint8_t tag = 0;
  Hash mgf_hash = Hash::kNone;
  a.salt_len = 20;
  if (p.peek(tag) && tag == der::kContext0) {
    if (!p.next(f)) return a.malformed = true, a;
    a.hash = read_hash_algorithm(f.value);
  }
  if (p.peek(tag) && tag == der::kContext1) {
    if (!p.next(f)) return a.malformed = true, a;
    Reader m(f.value);
    Tlv seq, oid, inner;
    if (!m.expect(der::kSequence, seq) || !m.at_end()) return a.malformed = true, a;
    Reader ms(seq.value);
    if (!ms.expect(der::kOid, oid) || !is(oid.value, kOidMgf1) || !ms.next(inner) || !ms.at_end())
      return a.malformed = true, a;
    mgf_hash = read_hash_algorithm(inner.whole);
  }
  if (p.peek(tag) && tag == der::kContext2) {
    Tlv n;
    if (!p.next(f)) return a.malformed = true, a;
    Reader s(f.value);
    if (!s.expect(der::kInteger, n) || !s.at_end() || n.value.empty() || n.value.size() > 2 || (n.value[0] & 0x80))
      return a.malformed = true, a;
    a.salt_len = 0;
    for (const std::uint8_t b : n.value) a.salt_len = (a.salt_len << 8) | b;
  }
  if (p.peek(tag) && tag == der::kContext3) {
    Tlv n;
    if (!p.next(f)) return a.malformed = true, a;
    Reader s(f.value);
    if (!s.expect(der::kInteger, n) || !s.at_end() || n.value.size() != 1 || n.value[0] != 1)
      return a.malformed = true, a;
  }
  if (!p.at_end() || p.failed()) return a.malformed = true, a;
  if (a.hash == Hash::kNone || mgf_hash != a.hash) a.scheme = Scheme::kUnknown;
  return a;
}

Algorithm read_algorithm(DerBytes alg) noexcept {
  Reader r(alg);
  Tlv oid, params;
  Algorithm a;
  if (!r.expect(der::kOid, oid)) return a.malformed = true, a;
  const Oid o = oid.value;
  if (is(o, kOidRsaPss)) return read_pss_params(r);
  if (is(o, kOidSha256Rsa) || is(o, kOidSha384Rsa) || is(o, kOidSha512Rsa)) {
    a.scheme = Scheme::kRsaPkcs1;
    a.hash = is(o, kOidSha256Rsa) ? Hash::kSha256 : is(o, kOidSha384Rsa) ? Hash::kSha384 : Hash::kSha512;
    // RFC 4055: parameters NULL (some encoders omit them).
    if (!r.at_end() && (!r.expect(der::kNull, params) || !params.value.empty())) a.malformed = true;
  } else if (is(o, kOidEcdsaSha256) || is(o, kOidEcdsaSha384) || is(o, kOidEcdsaSha512)) {
    a.scheme = Scheme::kEcdsa;
    a.hash = is(o, kOidEcdsaSha256) ? Hash::kSha256 : is(o, kOidEcdsaSha384) ? Hash::kSha384 : Hash::kSha512;
  } else if (is(o, kOidEd25519)) {
    a.scheme = Scheme::kEd25519;
  } else if (is(o, kOidEd448)) {
    a.scheme = Scheme::kEd448;
  }
  // RFC 5758 and RFC 8410: ECDSA and EdDSA identifiers carry no parameters.
  if (!r.at_end() && a.scheme != Scheme::kRsaPkcs1 && a.scheme != Scheme::kUnknown) a.malformed = true;
  return a;
}

/// The key algorithm OID of a SubjectPublicKeyInfo.
std::optional<Oid> key_algorithm(DerBytes spki) noexcept {
  Reader outer(spki);
  Tlv seq, alg, oid;
  if (!outer.expect(der::kSequence, seq) || !outer.at_end()) return std::nullopt;
  Reader s(seq.value);
  if (!s.expect(der::kSequence, alg)) return std::nullopt;
  Reader a(alg.value);
  if (!a.expect(der::kOid, oid)) return std::nullopt;
  return oid.value;
}

// DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 §9.2 note 1), followed by the digest.
constexpr std::array<std::uint8_t, 19> kDigestInfoSha256{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::array<std::uint8_t, 19> kDigestInfoSha384{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
constexpr std::array<std::uint8_t, 19> kDigestInfoSha512{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                         0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

/// A wolfCrypt key that is freed if (and only if) its init succeeded.
template <class Key, int (*Init)(Key*), int (*Free)(Key*)>
struct WcKey {
  Key key;
  bool inited = false;
  WcKey() noexcept { inited = Init(&key) == 0; }
  ~WcKey() {
    if (inited) Free(&key);
  }
  WcKey(const WcKey&) = delete;
  WcKey& operator=(const WcKey&) = delete;
};

int rsa_init(RsaKey* k) { return wc_InitRsaKey(k, nullptr); }
using RsaKeyHolder = WcKey<RsaKey, rsa_init, wc_FreeRsaKey>;
using EccKeyHolder = WcKey<ecc_key, wc_ecc_init, wc_ecc_free>;
int ed25519_free(ed25519_key* k) { wc_ed25519_free(k); return 0; }
int ed448_free(ed448_key* k) { wc_ed448_free(k); return 0; }
using Ed25519KeyHolder = WcKey<ed25519_key, wc_ed25519_init, ed25519_free>;
using Ed448KeyHolder = WcKey<ed448_key, wc_ed448_init, ed448_free>;

SignatureCheck verify_rsa(const Algorithm& a, DerBytes data, DerBytes sig, DerBytes spki) noexcept {
  RsaKeyHolder k;
  if (!k.inited) return SignatureCheck::kMalformed;
  word32 idx = 0;
  if (wc_RsaPublicKeyDecode(spki.data(), &idx, &k.key, static_cast<word32>(spki.size())) != 0 || idx != spki.size())
    return SignatureCheck::kMalformed;
  const int bytes = wc_RsaEncryptSize(&k.key);
  if (bytes <= 0) return SignatureCheck::kMalformed;
  if (bytes * 8 < kMinRsaBits || bytes * 8 > kMaxRsaBits) return SignatureCheck::kUnsupported;
  // A public exponent of thousands of bits costs a verifier milliseconds per check (a DoS lever
  // for a hostile chain); real keys use 65537. Anything above 32 bits is refused.
  std::array<std::uint8_t, 4> e{};
  std::array<std::uint8_t, kMaxRsaBits / 8> modulus{};
  word32 e_len = e.size(), n_len = modulus.size();
  if (wc_RsaFlattenPublicKey(&k.key, e.data(), &e_len, modulus.data(), &n_len) != 0)
    return SignatureCheck::kUnsupported;
  if (sig.size() != static_cast<std::size_t>(bytes)) return SignatureCheck::kInvalid;
  std::array<std::uint8_t, 64> hash{};
  if (!digest(a.hash, data, hash)) return SignatureCheck::kMalformed;
  const std::size_t hlen = digest_size(a.hash);
  std::array<std::uint8_t, 1024> out{};  // up to RSA-8192
  if (sig.size() > out.size()) return SignatureCheck::kUnsupported;
  if (a.scheme == Scheme::kRsaPkcs1) {
    const int n = wc_RsaSSL_Verify(sig.data(), static_cast<word32>(sig.size()), out.data(),
                                   static_cast<word32>(out.size()), &k.key);
    if (n < 0) return SignatureCheck::kInvalid;
    const auto& prefix = a.hash == Hash::kSha256 ? kDigestInfoSha256 : a.hash == Hash::kSha384 ? kDigestInfoSha384
                                                                                               : kDigestInfoSha512;
    if (static_cast<std::size_t>(n) != prefix.size() + hlen) return SignatureCheck::kInvalid;
    const bool ok = std::equal(prefix.begin(), prefix.end(), out.begin()) &&
                    std::equal(hash.begin(), hash.begin() + static_cast<long>(hlen), out.begin() + prefix.size());
    return ok ? SignatureCheck::kValid : SignatureCheck::kInvalid;
  }
  // RSASSA-PSS: recover the encoded message, then check the padding against our digest and the
  // salt length the certificate declared.
  std::array<std::uint8_t, 1024> in{};
  std::copy(sig.begin(), sig.end(), in.begin());
  const int n = wc_RsaPSS_Verify_ex(in.data(), static_cast<word32>(sig.size()), out.data(),
                                    static_cast<word32>(out.size()), wc_type(a.hash), mgf_for(a.hash), a.salt_len,
                                    &k.key);
  if (n <= 0) return SignatureCheck::kInvalid;
  const int rc = wc_RsaPSS_CheckPadding_ex(hash.data(), static_cast<word32>(hlen), out.data(), static_cast<word32>(n),
                                           wc_type(a.hash), a.salt_len, bytes * 8);
  return rc == 0 ? SignatureCheck::kValid : SignatureCheck::kInvalid;
}

SignatureCheck verify_ecdsa(const Algorithm& a, DerBytes data, DerBytes sig, DerBytes spki) noexcept {
  EccKeyHolder k;
  if (!k.inited) return SignatureCheck::kMalformed;
  word32 idx = 0;
  if (wc_EccPublicKeyDecode(spki.data(), &idx, &k.key, static_cast<word32>(spki.size())) != 0 || idx != spki.size())
    return SignatureCheck::kMalformed;
  std::array<std::uint8_t, 64> hash{};
  if (!digest(a.hash, data, hash)) return SignatureCheck::kMalformed;
  int verified = 0;
  const int rc = wc_ecc_verify_hash(sig.data(), static_cast<word32>(sig.size()), hash.data(),
                                    static_cast<word32>(digest_size(a.hash)), &verified, &k.key);
  // rc != 0: the library could not check (bad encoding, point not on the curve, ...): not valid.
  if (rc != 0) return SignatureCheck::kInvalid;
  return verified == 1 ? SignatureCheck::kValid : SignatureCheck::kInvalid;
}

/// EdDSA (RFC 8032) through wolfCrypt: decode the SPKI, verify the message itself (no prehash).
/// (wolfSSL leaves idx after the header on decode, not at the end: the import checks the key's size.)
template <class Holder, class Decode, class Verify>
SignatureCheck verify_eddsa(DerBytes data, DerBytes sig, DerBytes spki, Decode decode, Verify verify) noexcept {
  Holder k;
  word32 idx = 0;
  if (!k.inited || decode(spki.data(), &idx, &k.key, static_cast<word32>(spki.size())) != 0)
    return SignatureCheck::kMalformed;
  int verified = 0;
  const int rc = verify(sig.data(), static_cast<word32>(sig.size()), data.data(), static_cast<word32>(data.size()),
                        &verified, &k.key);
  return rc == 0 && verified == 1 ? SignatureCheck::kValid : SignatureCheck::kInvalid;
}

SignatureCheck verify_ed25519(DerBytes data, DerBytes sig, DerBytes spki) noexcept {
  return verify_eddsa<Ed25519KeyHolder>(data, sig, spki, wc_Ed25519PublicKeyDecode, wc_ed25519_verify_msg);
}

SignatureCheck verify_ed448(DerBytes data, DerBytes sig, DerBytes spki) noexcept {
  // Ed448 without a context string (RFC 8410 §6).
  return verify_eddsa<Ed448KeyHolder>(data, sig, spki, wc_Ed448PublicKeyDecode,
                                      [](const byte* s, word32 sl, const byte* m, word32 ml, int* res, ed448_key* key) {
                                        return wc_ed448_verify_msg(s, sl, m, ml, res, key, nullptr, 0);
                                      });
}

}  // namespace

std::string_view to_string(SignatureCheck c) {
  switch (c) {
    case SignatureCheck::kValid: return "valid";
    case SignatureCheck::kInvalid: return "invalid";
    case SignatureCheck::kUnsupported: return "unsupported";
    case SignatureCheck::kMalformed: return "malformed";
  }
  return "?";
}

SignatureCheck verify_signature(DerBytes signed_data, DerBytes algorithm, DerBytes signature,
                                DerBytes issuer_spki) noexcept {
  const Algorithm a = read_algorithm(algorithm);
  if (a.malformed) return SignatureCheck::kMalformed;
  const auto key_oid = key_algorithm(issuer_spki);
  if (!key_oid) return SignatureCheck::kMalformed;
  if (signature.empty()) return SignatureCheck::kInvalid;
  switch (a.scheme) {
    case Scheme::kRsaPkcs1:
      if (!is(*key_oid, kOidRsaEncryption)) return SignatureCheck::kUnsupported;
      return verify_rsa(a, signed_data, signature, issuer_spki);
    case Scheme::kRsaPss:
      if (!is(*key_oid, kOidRsaEncryption)) return SignatureCheck::kUnsupported;
      return verify_rsa(a, signed_data, signature, issuer_spki);
    case Scheme::kEcdsa:
      if (!is(*key_oid, kOidEcPublicKey)) return SignatureCheck::kUnsupported;
      return verify_ecdsa(a, signed_data, signature, issuer_spki);
    case Scheme::kEd25519:
      if (!is(*key_oid, kOidEd25519)) return SignatureCheck::kUnsupported;
      return verify_ed25519(signed_data, signature, issuer_spki);
    case Scheme::kEd448:
      if (!is(*key_oid, kOidEd448)) return SignatureCheck::kUnsupported;
      return verify_ed448(signed_data, signature, issuer_spki);
    case Scheme::kUnknown: break;
  }
  return SignatureCheck::kUnsupported;
}

}  // namespace dotpin
