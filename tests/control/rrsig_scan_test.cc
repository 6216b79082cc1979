// SPDX-License-Identifier: Apache-2.0
// The answer-packet scan behind DaneAnswer's owner and RRSIG window (control/rrsig_scan.h), on
// hand-made packets: what it finds in a well-formed answer, and that every malformed or truncated
// packet is an error rather than a partial answer. Also the TLSA presentation form.
#include "control/rrsig_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/dns_wire.h"
#include "control/tlsa_text.h"

namespace dotpin::dane {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A tiny packet builder: names in uncompressed wire form, records appended to the answer section.
struct Packet {
  Bytes b = Bytes(12, 0);
  std::uint16_t qd = 0, an = 0;

  static Bytes name(const std::string& dotted) {
    Bytes out;
    std::size_t start = 0;
    while (start < dotted.size()) {
      const std::size_t dot = dotted.find('.', start);
      const std::string label = dotted.substr(start, dot - start);
      out.push_back(static_cast<std::uint8_t>(label.size()));
      out.insert(out.end(), label.begin(), label.end());
      start = dot + 1;
    }
    out.push_back(0);
    return out;
  }
  void u16(std::uint16_t v) { b.insert(b.end(), {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}); }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  Packet& question(const std::string& qname, std::uint16_t type) {
    const Bytes n = name(qname);
    b.insert(b.end(), n.begin(), n.end());
    u16(type);
    u16(1);
    ++qd;
    return *this;
  }
  Packet& rr(const Bytes& owner, std::uint16_t type, const Bytes& rdata, std::uint16_t rclass = 1) {
    b.insert(b.end(), owner.begin(), owner.end());
    u16(type);
    u16(rclass);
    u32(300);
    u16(static_cast<std::uint16_t>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
    ++an;
    return *this;
  }
  Packet& rr(const std::string& owner, std::uint16_t type, const Bytes& rdata, std::uint16_t rclass = 1) {
    return rr(name(owner), type, rdata, rclass);
  }
  static Bytes rrsig(std::uint16_t covered, std::uint32_t expiration, std::uint32_t inception,
                     const std::string& signer = "dane.test.") {
    Packet p;
    p.b.clear();
    p.u16(covered);
    p.b.push_back(13);  // algorithm
    p.b.push_back(5);   // labels
    p.u32(300);
    p.u32(expiration);
    p.u32(inception);
    p.u16(4711);
    const Bytes s = name(signer);
    p.b.insert(p.b.end(), s.begin(), s.end());
    p.b.insert(p.b.end(), 64, 0xab);  // the signature: not read
    return p.b;
  }
  Bytes done() const {
    Bytes out = b;
    dns::store_be16(out.data() + 4, qd);
    dns::store_be16(out.data() + 6, an);
    return out;
  }
};

const std::string kOwner = "_853._tcp.dns.dane.test.";
const Bytes kTlsa1{3, 1, 1, 0xde, 0xad};
const Bytes kTlsa2{2, 0, 1, 0xbe, 0xef};

Packet signed_answer() {
  Packet p;
  p.question(kOwner, 52)
      .rr(kOwner, 52, kTlsa1)
      .rr(kOwner, 52, kTlsa2)
      .rr(kOwner, kTypeRrsig, Packet::rrsig(52, 2'000'000'000, 1'700'000'000))
      .rr(kOwner, kTypeRrsig, Packet::rrsig(52, 1'900'000'000, 1'750'000'000));
  return p;
}

TEST(RrsigScan, FindsTheRrsetAndItsSignatureWindow) {
  const auto s = scan_answer_rrset(signed_answer().done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->owner, kOwner);
  EXPECT_EQ(s->records, 2u);
  EXPECT_EQ(s->signatures, 2u);
  EXPECT_EQ(s->earliest_expiration, 1'900'000'000u);  // the earliest of both
  EXPECT_EQ(s->latest_inception, 1'750'000'000u);     // the latest of both
}

TEST(RrsigScan, IgnoresSignaturesOverOtherTypesOrOwnersAndOtherClasses) {
  Packet p;
  p.question("www.dane.test.", 52)
      .rr("www.dane.test.", 5, Packet::name(kOwner))  // a CNAME to the TLSA owner
      .rr("www.dane.test.", kTypeRrsig, Packet::rrsig(5, 100, 50))
      .rr(kOwner, 52, kTlsa1)
      .rr(kOwner, kTypeRrsig, Packet::rrsig(52, 3'000'000'000u, 1'000))
      .rr("other.dane.test.", kTypeRrsig, Packet::rrsig(52, 10, 2'000'000'000))  // another owner
      .rr(kOwner, kTypeRrsig, Packet::rrsig(52, 10, 2'000'000'000), /*rclass=*/3);  // CHAOS
  const auto s = scan_answer_rrset(p.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->owner, kOwner);
  EXPECT_EQ(s->records, 1u);
  EXPECT_EQ(s->signatures, 1u);
  EXPECT_EQ(s->earliest_expiration, 3'000'000'000u);  // above 2^31: unsigned, no serial arithmetic
  EXPECT_EQ(s->latest_inception, 1'000u);
}

TEST(RrsigScan, OwnersCompareCaseInsensitivelyAndAreReportedInLowerCase) {
  Packet p;
  p.question(kOwner, 52)
      .rr("_853._TCP.DNS.Dane.Test.", 52, kTlsa1)
      .rr(kOwner, kTypeRrsig, Packet::rrsig(52, 20, 10));
  const auto s = scan_answer_rrset(p.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->owner, kOwner);
  EXPECT_EQ(s->signatures, 1u);
}

TEST(RrsigScan, FollowsCompressionPointersBackToTheQuestion) {
  Packet p;
  p.question(kOwner, 52);
  const Bytes to_question{0xc0, 12};
  p.rr(to_question, 52, kTlsa1).rr(to_question, kTypeRrsig, Packet::rrsig(52, 20, 10));
  const auto s = scan_answer_rrset(p.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->owner, kOwner);
  EXPECT_EQ(s->signatures, 1u);
}

TEST(RrsigScan, NoRecordsOrNoSignaturesAreReportedAsSuch) {
  Packet nodata;
  nodata.question(kOwner, 52);
  auto s = scan_answer_rrset(nodata.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->records, 0u);
  EXPECT_TRUE(s->owner.empty());

  Packet unsigned_answer;
  unsigned_answer.question(kOwner, 52).rr(kOwner, 52, kTlsa1);
  s = scan_answer_rrset(unsigned_answer.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->records, 1u);
  EXPECT_EQ(s->signatures, 0u);
  EXPECT_EQ(s->earliest_expiration, 0u);

  // An RRSIG without any record of its type counts for nothing.
  Packet sig_only;
  sig_only.question(kOwner, 52).rr(kOwner, kTypeRrsig, Packet::rrsig(52, 20, 10));
  s = scan_answer_rrset(sig_only.done(), 52);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->signatures, 0u);
}

TEST(RrsigScan, TwoOwnersForTheTypeAreAnError) {
  Packet p;
  p.question(kOwner, 52).rr(kOwner, 52, kTlsa1).rr("_853._tcp.other.dane.test.", 52, kTlsa2);
  const auto s = scan_answer_rrset(p.done(), 52);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("two owners"), std::string::npos) << s.error();
}

TEST(RrsigScan, EveryTruncationOfAGoodPacketIsAnError) {
  const Bytes whole = signed_answer().done();
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const auto s = scan_answer_rrset(std::span(whole).first(n), 52);
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes accepted";
  }
}

TEST(RrsigScan, ShortRrsigRdataIsAnError) {
  for (std::size_t len : {0u, 1u, 17u, 18u}) {  // 18 fixed octets, then at least the root name
    Bytes rdata = Packet::rrsig(52, 20, 10);
    rdata.resize(len);
    Packet p;
    p.question(kOwner, 52).rr(kOwner, 52, kTlsa1).rr(kOwner, kTypeRrsig, rdata);
    const auto s = scan_answer_rrset(p.done(), 52);
    EXPECT_FALSE(s.ok()) << len;
  }
  // A signer name that runs past the RDATA (into the next record) is refused too.
  Bytes rdata = Packet::rrsig(52, 20, 10, "dane.test.");
  rdata.resize(18 + 3);  // "\4da"
  Packet p;
  p.question(kOwner, 52).rr(kOwner, kTypeRrsig, rdata).rr(kOwner, 52, kTlsa1);
  EXPECT_FALSE(scan_answer_rrset(p.done(), 52).ok());
}

TEST(RrsigScan, MalformedNamesAndCountsAreErrors) {
  // A compression pointer to itself in an answer owner.
  Packet loop;
  loop.question(kOwner, 52);
  const std::uint16_t at = static_cast<std::uint16_t>(loop.b.size());
  loop.rr(Bytes{static_cast<std::uint8_t>(0xc0 | at >> 8), static_cast<std::uint8_t>(at)}, 52, kTlsa1);
  EXPECT_FALSE(scan_answer_rrset(loop.done(), 52).ok());

  // A forward pointer.
  Packet fwd;
  fwd.question(kOwner, 52).rr(Bytes{0xc0, 0xff}, 52, kTlsa1);
  EXPECT_FALSE(scan_answer_rrset(fwd.done(), 52).ok());

  // An RDLENGTH past the end.
  Packet p;
  p.question(kOwner, 52).rr(kOwner, 52, kTlsa1);
  Bytes b = p.done();
  b[b.size() - kTlsa1.size() - 2] = 0x7f;  // RDLENGTH high octet
  EXPECT_FALSE(scan_answer_rrset(b, 52).ok());

  // More answers announced than present, and more questions.
  Bytes more = signed_answer().done();
  dns::store_be16(more.data() + 6, 5);
  EXPECT_FALSE(scan_answer_rrset(more, 52).ok());
  Bytes moreq = signed_answer().done();
  dns::store_be16(moreq.data() + 4, 2);
  EXPECT_FALSE(scan_answer_rrset(moreq, 52).ok());

  // A label over 63 octets (0x40: an extended label type).
  Packet ext;
  ext.question(kOwner, 52).rr(Bytes{0x40, 'a', 0}, 52, kTlsa1);
  EXPECT_FALSE(scan_answer_rrset(ext.done(), 52).ok());
}

TEST(TlsaText, PresentationForm) {
  EXPECT_EQ(tlsa_presentation(Bytes{3, 1, 1, 0x01, 0xab, 0xff}), "3 1 1 01abff");
  EXPECT_EQ(tlsa_presentation(Bytes{2, 0, 2}), "2 0 2");
  EXPECT_EQ(tlsa_presentation(Bytes{3, 1}), "\\# 2 0301");
  EXPECT_EQ(tlsa_presentation(Bytes{}), "\\# 0");
  EXPECT_EQ(hex_lower(Bytes{0x00, 0x9f, 0xa0}), "009fa0");
}

}  // namespace
}  // namespace dotpin::dane
