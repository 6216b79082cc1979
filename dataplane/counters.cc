// SPDX-License-Identifier: Apache-2.0
#include "dataplane/counters.h"

namespace dotpin::dataplane {

std::string_view to_string(Counter c) {
  switch (c) {
    case Counter::kRxPackets: return "rx_packets";
    case Counter::kTxPackets: return "tx_packets";
    case Counter::kTxDropped: return "tx_dropped";
    case Counter::kQueries: return "queries";
    case Counter::kCacheHits: return "cache_hits";
    case Counter::kCacheMisses: return "cache_misses";
    case Counter::kForwarded: return "forwarded";
    case Counter::kMerged: return "merged";
    case Counter::kUpstreamAnswers: return "upstream_answers";
    case Counter::kUpstreamServfails: return "upstream_servfails";
    case Counter::kUpstreamBadAnswer: return "upstream_bad_answer";
    case Counter::kInflightFull: return "inflight_full";
    case Counter::kShardFull: return "shard_full";
    case Counter::kCacheInserts: return "cache_inserts";
    case Counter::kTruncated: return "truncated";
    case Counter::kAclRefused: return "acl_refused";
    case Counter::kAclDropped: return "acl_dropped";
    case Counter::kFormErr: return "formerr";
    case Counter::kNotImp: return "notimp";
    case Counter::kRefused: return "refused";
    case Counter::kBadVers: return "badvers";
    case Counter::kDropShort: return "drop_short";
    case Counter::kDropResponse: return "drop_response";
    case Counter::kArpReplies: return "arp_replies";
    case Counter::kNdReplies: return "nd_replies";
    case Counter::kEchoReplies: return "echo_replies";
    case Counter::kMultiSegment: return "multi_segment";
    case Counter::kNoMbuf: return "no_mbuf";
    case Counter::kShutdownUnanswered: return "shutdown_unanswered";
    case Counter::kPinGenerations: return "pin_generations";
    case Counter::kLoopAborted: return "loop_aborted";
    case Counter::kStaleAnswers: return "stale_answers";
    case Counter::kRateLimited: return "ratelimited";
    case Counter::kRateLimitSlipped: return "ratelimit_slipped";
    case Counter::kRrlDropped: return "rrl_dropped";
    case Counter::kRrlSlipped: return "rrl_slipped";
    case Counter::kTcpQueries: return "tcp_queries";
    case Counter::kTcpRefused: return "tcp_acl_refused";
    case Counter::kViewUnmatchedRefused: return "view_unmatched_refused";
    case Counter::kViewUnmatchedDropped: return "view_unmatched_dropped";
    case Counter::kToKernel: return "to_kernel";
    case Counter::kToKernelDropped: return "to_kernel_dropped";
    case Counter::kFromKernel: return "from_kernel";
    case Counter::kKernelNoHop: return "kernel_no_hop";
    case Counter::kKernelOther: return "kernel_other";
    case Counter::kCount_: break;
  }
  return "unknown";
}

}  // namespace dotpin::dataplane
