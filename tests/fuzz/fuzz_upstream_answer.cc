// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the shard's response path: the bytes an upstream sends back over DoT, fed in
// pieces to the frame decoder, each message matched by ID to a query in flight and checked against
// its question, turned into the client's copy (client ID, the shard's OPT removed), then prepared,
// cached, looked up and written for the client as the worker does — or answered SERVFAIL when it
// cannot be. Input: one byte of options (bits 0-5: piece size - 1; bit 6: the worker's cache is
// looked up at an age), then the stream.
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/dns_wire.h"
#include "dataplane/answer_cache.h"
#include "dataplane/dns_query.h"
#include "dataplane/dns_reply.h"
#include "tls/dns_framing.h"
#include "tls/edns_options.h"
#include "tls/upstream_answer.h"

using namespace dotpin;
using namespace dotpin::dataplane;

namespace {

// A query in flight as the worker and the shard hold it.
struct InFlight {
  std::vector<std::uint8_t> client;  // what the client sent
  std::vector<std::uint8_t> wire;    // what the shard sent: padded, keepalive asked for, wire ID
  QueryInfo q;
  CacheKey key;
  bool added_opt = false;
};

// The wire IDs are 1..4 (seeds in corpus/upstream_answer answer them).
std::vector<InFlight> make_inflight() {
  struct Spec {
    const char* name;
    std::uint16_t type;
    bool edns;
  };
  const Spec specs[] = {{"www.dotpin.test", dns::kTypeA, true},
                        {"WwW.Example.COM", dns::kTypeAaaa, false},
                        {"x.test", 65, true},
                        {"a.", dns::kTypeTxt, false}};
  std::vector<InFlight> out;
  std::uint16_t id = 1;
  for (const Spec& s : specs) {
    InFlight f;
    dns::QueryOptions o;
    o.id = 0x4000 + id;  // the client's ID
    o.edns = s.edns;
    o.pad_block = 0;
    f.client = *dns::build_query(s.name, s.type, o);
    if (parse_query(f.client, f.q, f.key) != QueryVerdict::kOk) __builtin_trap();
    if (!tls::pad_query(f.client, 128, f.wire, f.added_opt, /*keepalive=*/true)) __builtin_trap();
    dns::store_be16(f.wire.data(), id++);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<InFlight> inflight = make_inflight();
  static AnswerCache cache(CacheOptions{.entries = 64, .max_bytes = 1u << 20, .max_answer = 4096});
  if (size == 0) return 0;
  const std::size_t piece = (data[0] & 0x3f) + 1u;
  const bool aged = data[0] & 0x40;
  const std::span<const std::uint8_t> stream(data + 1, size - 1);
  cache.flush();

  tls::FrameDecoder decoder;
  std::vector<std::uint8_t> copy, out(1500);
  PreparedAnswer prepared;
  std::uint32_t now = 1000;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    decoder.feed(stream.subspan(at, std::min(piece, stream.size() - at)));
    std::span<const std::uint8_t> msg;
    tls::FrameDecoder::Status status;
    while ((status = decoder.next(msg)) == tls::FrameDecoder::Status::kMessage) {
      // DotShard::on_response: match by ID, then by question.
      const auto id = tls::response_id(msg);
      if (!id || *id == 0 || *id > inflight.size()) continue;
      const InFlight& f = inflight[*id - 1u];
      if (!tls::answers_question(msg, f.wire)) continue;
      (void)tls::keepalive_timeout(msg);
      tls::client_copy(msg, f.q.id, f.added_opt, copy);
      // Worker::on_complete and deliver: prepare, cache, write for the client or SERVFAIL.
      std::uint16_t len = 0;
      if (prepare_answer(copy, CacheLimits{}, prepared)) {
        if (prepared.ttl > 0) cache.insert(f.key, prepared, now);
        len = write_answer(out.data(), out.size(), {prepared.message, prepared.ttl_offsets}, 0, f.q,
                           f.client.data() + 12, 1232);
      }
      if (len == 0 && write_question(out.data(), out.size(), f.q, f.client.data() + 12)) {
        QueryInfo q = f.q;
        q.question_end = static_cast<std::uint16_t>(12 + q.qname_len + 4);
        const dns::Ede ede{dns::EdeCode::kNetworkError, "dotpin: unreadable answer from upstream"};
        len = write_error_reply(out.data(), out.size(), q, kRcodeServFail, 1232, &ede);
      }
      if (len < 12 || len > out.size()) __builtin_trap();
      if (dns::load_be16(out.data()) != f.q.id || !(out[2] & 0x80)) __builtin_trap();  // the client's ID, a response
      // A later client of the same question, from the cache (at an age when asked).
      AnswerCache::Hit hit;
      if (cache.lookup(f.key, aged ? now + 30 : now, hit)) {
        std::vector<std::uint8_t> again(f.client);
        again.resize(1500);
        write_answer(again.data(), again.size(), hit.answer, hit.age, f.q, again.data() + 12, 1232);
      }
      ++now;
    }
    if (status == tls::FrameDecoder::Status::kMalformed) break;  // the shard closes the connection
  }
  return 0;
}
