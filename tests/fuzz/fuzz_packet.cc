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
#include "dataplane/view_map.h"

using namespace dotpin::dataplane;

namespace {
LocalAddresses make_local() {
  LocalAddresses l;
  l.mac = {0x02, 0, 0, 0, 0, 0x01};
  l.ipv4.push_back({198, 18, 0, 1});
  l.ipv6.push_back({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  return l;
}
// Views as a tenant appliance has them: by VLAN, by VLAN and prefix, by prefix (both families).
ViewMap make_views() {
  ViewMap m;
  (void)m.add(0, 101, {});
  (void)m.add(1, 102, {"198.18.2.0/24", "2001:2:2::/48"});
  (void)m.add(2, std::nullopt, {"198.18.0.0/16", "2001:2::/32"});
  m.build();
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const LocalAddresses local = make_local();
  // Room after the frame as an mbuf would have it.
  std::vector<std::uint8_t> frame(data, data + size);
  frame.resize(size + 2048);
  const PacketView v = classify({frame.data(), size}, local, size % 2 == 0);
  // The worker's view lookup for a query or TCP segment: the frame's VLAN (if tagged) and source.
  if (v.kind == PacketKind::kDnsQuery || v.kind == PacketKind::kException) {
    static const ViewMap views = make_views();
    const std::uint16_t vlan = v.l3 == 18 ? static_cast<std::uint16_t>((frame[14] << 8 | frame[15]) & 0x0FFF) : 0;
    const std::uint16_t view = views.match(vlan, frame.data() + v.l3 + (v.ipv6 ? 8 : 12), v.ipv6);
    if (view != ViewMap::kNoView && view > 2) __builtin_trap();  // only the views it was given
  }
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
