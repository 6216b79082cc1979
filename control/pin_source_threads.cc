// SPDX-License-Identifier: Apache-2.0
#include "control/pin_source_threads.h"

#include "tls/wolfssl_init.h"

namespace dotpin::ctl {

PinSourceThreads::PinSourceThreads(std::vector<PinSources*> sources, std::chrono::milliseconds tick)
    : sources_(std::move(sources)), tick_(tick) {
  for (PinSources* s : sources_) s->set_wake([this] { wake(); });
}

PinSourceThreads::~PinSourceThreads() {
  stop();
  for (PinSources* s : sources_) s->set_wake({});
}

void PinSourceThreads::start() {
  tofu_ = std::thread(&PinSourceThreads::loop, this, &PinSources::run_tofu_once);
  dane_ = std::thread(&PinSourceThreads::loop, this, &PinSources::run_dane_once);
}

void PinSourceThreads::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (tofu_.joinable()) tofu_.join();
  if (dane_.joinable()) dane_.join();
}

void PinSourceThreads::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void PinSourceThreads::loop(void (PinSources::*pass)()) {
  std::unique_lock lock(mu_);
  std::uint64_t seen = wakes_;
  while (!stop_) {
    lock.unlock();
    for (PinSources* s : sources_) {
      (s->*pass)();
      std::lock_guard check(mu_);
      if (stop_) break;
    }
    lock.lock();
    cv_.wait_for(lock, tick_, [&] { return stop_ || wakes_ != seen; });
    seen = wakes_;
  }
  lock.unlock();
  tls::release_thread_crypto_caches();  // learning handshakes verified chains on this thread
}

}  // namespace dotpin::ctl
