// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_store.h"

#include "pinning/pin_file.h"
#include "pinning/pin_lint.h"

namespace dotpin {

Result<PinTable> FilePinSource::load(std::vector<Diagnostic>& errors) {
  PinFileResult r = load_pin_file(path_);
  if (r.table) {
    auto trust = trust_profile_errors(*r.table, ca_mode_);
    if (!trust.empty()) {
      r.errors = std::move(trust);
      r.table.reset();
    }
  }
  if (!r.table) {
    errors = std::move(r.errors);
    std::string msg = path_ + ": " + std::to_string(errors.size()) + " error(s); first: ";
    msg += errors.empty() ? "unknown" : errors.front().to_string();
    return fail(msg);
  }
  return std::move(*r.table);
}

std::uint64_t PinStore::publish(PinTable table, UnixTime now) {
  std::lock_guard lock(writer_);
  auto snap = std::make_shared<PinSnapshot>();
  snap->generation = ++last_generation_;
  snap->table = std::move(table);
  snap->published_at = now;
  current_.store(std::move(snap), std::memory_order_release);
  return last_generation_;
}

Result<std::uint64_t> PinStore::reload(PinSource& source, UnixTime now, std::vector<Diagnostic>& errors) {
  auto table = source.load(errors);
  if (!table) return Error{table.error()};
  return publish(std::move(*table), now);
}

}  // namespace dotpin
