// SPDX-License-Identifier: Apache-2.0
#include "tls/upstream_answer.h"

#include "common/dns_question.h"
#include "tls/edns_options.h"

namespace dotpin::tls {

std::optional<std::uint16_t> response_id(std::span<const std::uint8_t> msg) noexcept {
  if (msg.size() < dns::kHeaderLen || !(msg[2] & 0x80)) return std::nullopt;
  return dns::load_be16(msg.data());
}

bool answers_question(std::span<const std::uint8_t> response, std::span<const std::uint8_t> query) noexcept {
  return dns::same_question(dns::question_of(response), dns::question_of(query));
}

void client_copy(std::span<const std::uint8_t> response, std::uint16_t client_id, bool strip,
                 std::vector<std::uint8_t>& out) {
  out.assign(response.begin(), response.end());
  if (out.size() < dns::kHeaderLen) return;
  dns::store_be16(out.data(), client_id);
  if (strip) strip_opt(out);
}

}  // namespace dotpin::tls
