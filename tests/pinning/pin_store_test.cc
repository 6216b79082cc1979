// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "common/encoding.h"

namespace dotpin {
namespace {

const UnixTime kNow = *parse_utc("2027-01-01T00:00:00Z");

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/dotpin-store-test-" + std::to_string(::getpid()) + "-" + name;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string file_with(const std::string& name) {
  return "[[upstream]]\nname = \"" + name + "\"\naddress = \"192.0.2.1\"\n[[upstream.pin]]\nsha256 = \"" +
         base64_encode(std::vector<std::uint8_t>(32, 7)) + "\"\n";
}

TEST(PinStore, StartsEmptyAndCountsGenerations) {
  PinStore store;
  EXPECT_EQ(store.current(), nullptr);
  PinTable t;
  EXPECT_EQ(store.publish(t, kNow), 1u);
  EXPECT_EQ(store.publish(t, kNow), 2u);
  ASSERT_NE(store.current(), nullptr);
  EXPECT_EQ(store.current()->generation, 2u);
  EXPECT_EQ(store.current()->published_at, kNow);
}

TEST(PinStore, BadReloadChangesNothing) {
  const std::string path = temp_path("pins.toml");
  write(path, file_with("first"));
  PinStore store;
  FilePinSource source(path);
  std::vector<Diagnostic> errors;
  auto g1 = store.reload(source, kNow, errors);
  ASSERT_TRUE(g1.ok()) << g1.error();
  EXPECT_EQ(*g1, 1u);
  const auto before = store.current();

  write(path, "[[upstream]]\nname = \"second\"\naddress = \"nope\"\n");
  auto g2 = store.reload(source, kNow, errors);
  EXPECT_FALSE(g2.ok());
  EXPECT_EQ(errors.size(), 2u);  // bad address, no pins
  EXPECT_NE(g2.error().find(path), std::string::npos) << g2.error();
  EXPECT_EQ(store.current(), before);  // the very same snapshot stays in force
  EXPECT_EQ(store.current()->table.upstreams.front().name, "first");

  write(path, file_with("third"));
  errors.clear();
  auto g3 = store.reload(source, kNow, errors);
  ASSERT_TRUE(g3.ok());
  EXPECT_EQ(*g3, 2u);
  EXPECT_EQ(store.current()->table.upstreams.front().name, "third");
  EXPECT_EQ(before->table.upstreams.front().name, "first");  // old readers keep their snapshot
  std::remove(path.c_str());
}

TEST(PinStore, ReadersSeeWholeSnapshotsWhilePublishing) {
  PinStore store;
  auto table_of = [](std::size_t n) {
    PinTable t;
    for (std::size_t i = 0; i < n; ++i) {
      UpstreamPins u;
      u.name = "u" + std::to_string(n);
      t.upstreams.push_back(u);
    }
    return t;
  };
  store.publish(table_of(1), kNow);
  std::atomic<bool> stop{false};
  std::atomic<long> torn{0}, reads{0};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!stop.load()) {
      const auto snap = store.current();
      // Generation g was published with g upstreams all named "u<g>".
      if (snap->table.upstreams.size() != snap->generation || snap->generation < last) ++torn;
      for (const auto& u : snap->table.upstreams)
        if (u.name != "u" + std::to_string(snap->generation)) ++torn;
      last = snap->generation;
      ++reads;
    }
  });
  // Interleave for real: before each publish, wait (bounded) until the reader has read again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (std::size_t g = 2; g <= 200; ++g) {
    const long seen = reads.load();
    while (reads.load() == seen && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    store.publish(table_of(g), kNow);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(reads.load(), 199);
  EXPECT_EQ(store.current()->generation, 200u);
}

}  // namespace
}  // namespace dotpin
