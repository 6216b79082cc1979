// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the data path's parsers of untrusted input: a frame as it arrives on the
// port goes through classify(); a DNS payload through parse_query() and the reply writers, exactly
// as the worker does it (in place, with the mbuf's spare room); and the same bytes are tried as an
// upstream answer (prepare_answer + write_answer), since upstream bytes are untrusted too.
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/dns_question.h"
#include "dataplane/dns_query.h"
#include "dataplane/dns_reply.h"
#include "dataplane/packet.h"

using namespace dotpin::dataplane;

namespace {
LocalAddresses make_local() {
  LocalAddresses l;
  l.mac = {0x02, 0, 0, 0, 0, 0x01};
  l.ipv4.push_back({198, 18, 0, 1});
  l.ipv6.push_back({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  return l;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const LocalAddresses local = make_local();
  // Room after the frame as an mbuf would have it.
  std::vector<std::uint8_t> frame(data, data + size);
  frame.resize(size + 2048);
  const PacketView v = classify({frame.data(), size}, local, size % 2 == 0);
  switch (v.kind) {
    case PacketKind::kArpRequest: make_arp_reply(frame.data(), v, local.mac); break;
    case PacketKind::kNeighborSolicit: make_neighbor_advert(frame.data(), frame.size(), v, local.mac); break;
    case PacketKind::kIcmpEcho:
    case PacketKind::kIcmp6Echo: make_echo_reply(frame.data(), v, local.mac); break;
    case PacketKind::kDnsQuery: {
      std::uint8_t* dns = frame.data() + v.payload;
      QueryInfo q;
      CacheKey key;
      const QueryVerdict verdict = parse_query({dns, v.payload_len}, q, key);
      const std::size_t room = frame.size() - v.payload;
      if (verdict != QueryVerdict::kOk && verdict != QueryVerdict::kDropShort && verdict != QueryVerdict::kDropResponse) {
        const dotpin::dns::Ede ede{dotpin::dns::EdeCode::kOther, "fuzz"};
        finish_udp_reply(frame.data(), v, write_error_reply(dns, room, q, rcode_for(verdict), 1232, &ede), local.mac);
      } else if (verdict == QueryVerdict::kOk) {
        // Answer this query with a copy of itself turned into a response.
        std::vector<std::uint8_t> answer(dns, dns + v.payload_len);
        answer[2] |= 0x80;
        PreparedAnswer p;
        if (prepare_answer(answer, CacheLimits{}, p)) {
          const std::uint16_t len = write_answer(dns, room, {p.message, p.ttl_offsets}, 7, q, dns + 12, 1232);
          if (len) finish_udp_reply(frame.data(), v, len, local.mac);
        }
      }
      break;
    }
    case PacketKind::kException:
    case PacketKind::kDrop: break;
  }
  // The whole input as an upstream's answer.
  PreparedAnswer p;
  if (prepare_answer({data, size}, CacheLimits{}, p) && p.message.size() >= 12) {
    QueryInfo q;
    // Only a question the answer really has can be written for a client: read it.
    dotpin::dns::WireCursor c(p.message, dotpin::dns::kHeaderLen);
    dotpin::dns::Question question;
    if (dotpin::dns::read_question(c, question)) {
      q.qname_len = question.name_len;
      q.question_end = question.end;
      q.edns = size % 3 == 0;
      q.udp_size = static_cast<std::uint16_t>(512 + size % 1024);
      std::vector<std::uint8_t> out(1500);
      write_answer(out.data(), out.size(), {p.message, p.ttl_offsets}, 3, q, p.message.data() + 12, 1232);
    }
  }
  return 0;
}
