#pragma once
// Merges the records of several live sources (the files `run --follow` reads) by record
// time, with bounded memory. Each source's records are added in its own order; release()
// hands on, oldest first, those before a time the caller knows nothing older can still
// come from (the earliest point a file not yet read to its end may hold). This is the
// same merge as replay's (FileIngest, time_order): the source with the earliest next
// record goes first, ties to the lower source number, and each source keeps its own
// order (a file's small disorder stays as it was). Records wait in their RecordWire
// form (tens of bytes, not a FlowRecord's 680), which is also the form they are handed
// on in. Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

// The time a record is ordered and windowed by: the flow's start, else its end (ns).
inline std::int64_t record_time(const FlowRecord& r) { return r.has(Field::start) ? r.start_ns : r.end_ns; }

class RecordMerge {
 public:
  // Receives one record in RecordWire form.
  using Out = std::function<void(std::string_view wire)>;
  static constexpr std::int64_t kAll = std::numeric_limits<std::int64_t>::max();

  // At most `max_held` records wait; beyond that the oldest are handed on at once
  // (counted in forced()), so a source that never catches up cannot hold memory hostage.
  explicit RecordMerge(std::size_t max_held) : max_held_(max_held) {}

  void add(std::uint64_t source, const FlowRecord& record);
  // Hands on, in merge order, every record whose time is before `before` (ns; kAll:
  // everything held). A source left with nothing held and nothing as new as `before` is
  // forgotten (a source that bounds `before` is kept), so memory follows what is held.
  void release(std::int64_t before, const Out& out);

  // The newest record time added from `source` (its read so far reaches about there),
  // while it is remembered.
  std::optional<std::int64_t> newest(std::uint64_t source) const;
  std::size_t held() const { return held_; }
  std::size_t held_bytes() const { return held_bytes_; }
  std::uint64_t forced() const { return forced_; }

 private:
  struct Entry {
    std::int64_t time;
    std::uint32_t size;  // bytes in `wire`
  };
  struct Source {
    std::string wire;      // the held records, back to back
    std::size_t head = 0;  // offset of the first held record in `wire`
    std::deque<Entry> entries;
    std::int64_t newest = std::numeric_limits<std::int64_t>::min();
  };
  std::size_t max_held_;
  std::map<std::uint64_t, Source> sources_;
  std::size_t held_ = 0;
  std::size_t held_bytes_ = 0;
  std::uint64_t forced_ = 0;
};

}  // namespace flowlier::pipeline
