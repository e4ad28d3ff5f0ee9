#pragma once
// Merges the records of several live sources (the files `run --follow` reads) by record
// time, with bounded memory. Each source's records are added in its own order; release()
// hands on, oldest first, those before a time the caller knows nothing older can still
// come from (the earliest point a file not yet read to its end may hold). This is the
// same merge as replay's (FileIngest, time_order): the source with the earliest next
// record goes first, ties to the lower source number, and each source keeps its own
// order (a file's small disorder stays as it was). Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

// The time a record is ordered and windowed by: the flow's start, else its end (ns).
inline std::int64_t record_time(const FlowRecord& r) { return r.has(Field::start) ? r.start_ns : r.end_ns; }

class RecordMerge {
 public:
  using Out = std::function<void(const FlowRecord&)>;
  static constexpr std::int64_t kAll = std::numeric_limits<std::int64_t>::max();

  // At most `max_held` records wait; beyond that the oldest are handed on at once
  // (counted in forced()), so a source that never catches up cannot hold memory hostage.
  explicit RecordMerge(std::size_t max_held) : max_held_(max_held) {}

  void add(std::uint64_t source, const FlowRecord& record);
  // Hands on, in merge order, every record whose time is before `before` (ns; kAll:
  // everything held).
  void release(std::int64_t before, const Out& out);

  // The newest record time added from `source` (its read so far reaches about there).
  std::optional<std::int64_t> newest(std::uint64_t source) const;
  // A source whose file is gone: its held records still count, its newest time is dropped.
  void forget(std::uint64_t source);
  std::size_t held() const { return held_; }
  std::uint64_t forced() const { return forced_; }

 private:
  struct Source {
    std::deque<FlowRecord> records;
    std::int64_t newest = std::numeric_limits<std::int64_t>::min();
    bool seen = false;
  };
  std::size_t max_held_;
  std::map<std::uint64_t, Source> sources_;
  std::size_t held_ = 0;
  std::uint64_t forced_ = 0;
};

}  // namespace flowlier::pipeline
