#pragma once
// Shared save/restore checks for every detector: round trip, and each kind of bad
// state (flipped byte, truncation, wrong tag, older/newer version, a well-framed but
// short payload) rejected with a clear message, leaving the target unchanged.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "core/StateIo.hpp"

namespace flowlier::detectors::testing {

template <class D>
std::string saved(const D& detector) {
  std::ostringstream out;
  detector.save(out);
  REQUIRE(out.good());
  return out.str();
}

template <class D>
std::string restore_from(D& target, const std::string& bytes) {
  std::istringstream in(bytes);
  return target.restore(in);
}

inline std::string reframed(const std::string& bytes, std::string_view tag, std::uint32_t version,
                            std::string payload_override = {}, bool override_payload = false) {
  std::istringstream in(bytes);
  RawRecord record;
  REQUIRE(read_record(in, record).empty());
  std::ostringstream out;
  save_record(out, tag, version, override_payload ? payload_override : record.payload);
  return out.str();
}

// `trained` has state; `bystander` is a detector of the same configuration with
// different state, used as the restore target of every bad input. `later(D&)` feeds
// the same further observations and returns their scores (a std::vector<double>).
template <class D, class Later>
void check_persistence(const D& trained, const D& bystander, Later later) {
  const std::string bytes = saved(trained);

  SECTION("round trip keeps the checksum and later scores") {
    D restored = bystander;
    REQUIRE(restore_from(restored, bytes).empty());
    CHECK(restored.checksum() == trained.checksum());
    D original = trained;
    CHECK(later(restored) == later(original));
    CHECK(restored.checksum() == original.checksum());
  }

  const std::uint64_t before = bystander.checksum();
  D target = bystander;
  auto expect_rejected = [&](const std::string& bad, const std::string& needle) {
    const std::string error = restore_from(target, bad);
    INFO(error);
    CHECK_FALSE(error.empty());
    CHECK(error.find(needle) != std::string::npos);
    CHECK(target.checksum() == before);
  };

  SECTION("a flipped payload byte fails the checksum") {
    std::string bad = bytes;
    bad[bad.size() - 12] = static_cast<char>(bad[bad.size() - 12] ^ 0x5a);
    expect_rejected(bad, "checksum");
  }
  SECTION("a truncated stream is refused") {
    expect_rejected(bytes.substr(0, bytes.size() - 3), "truncated");
    expect_rejected(bytes.substr(0, 5), "truncated");
    expect_rejected(std::string{}, "truncated");
  }
  SECTION("another detector's tag is refused") {
    expect_rejected(reframed(bytes, "not_this_one", D::kVersion), "tag mismatch");
  }
  SECTION("older and newer versions are refused, naming both") {
    expect_rejected(reframed(bytes, D::kTag, D::kVersion + 1),
                    "version " + std::to_string(D::kVersion + 1));
    expect_rejected(reframed(bytes, D::kTag, D::kVersion - 1), "reads version " + std::to_string(D::kVersion));
  }
  SECTION("a well-framed but short or padded payload is refused") {
    std::istringstream in(bytes);
    RawRecord record;
    REQUIRE(read_record(in, record).empty());
    expect_rejected(reframed(bytes, D::kTag, D::kVersion, record.payload.substr(0, record.payload.size() - 1), true),
                    "truncated");
    expect_rejected(reframed(bytes, D::kTag, D::kVersion, record.payload + "xx", true), "trailing");
  }
}

}  // namespace flowlier::detectors::testing
