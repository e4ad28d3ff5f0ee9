#pragma once
// A bounded on-disk FIFO of records (one line each, no '\n' inside) that survives
// kill -9: append-only segment files seg-<n>.log plus a `committed` file holding
// "<segment> <offset>" (written to a temp file, fsynced, renamed). Records are
// removed only by commit(); a restart resumes at the committed position, so a
// record is delivered at least once. A torn last line (crash mid-append) is cut.
// One process at a time: open() takes an exclusive flock on <dir>/lock (released
// by the kernel on exit, kill -9 included). Not thread-safe: the owner serializes calls.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flowlier::transport {

class DiskSpool {
 public:
  enum class Append { ok, full, error };

  // Creates `dir` if needed and recovers what is there. Error text in `error`.
  static std::unique_ptr<DiskSpool> open(const std::string& dir, std::uint64_t max_bytes, std::string& error,
                                         std::uint64_t segment_bytes = 4u << 20);
  ~DiskSpool();
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  // Appends one record; `full` when it would take the pending bytes past max_bytes.
  Append append(std::string_view record);
  // Up to max_records pending records from the oldest, stopping before max_bytes
  // (always at least one record when any is pending).
  std::vector<std::string> peek(std::size_t max_records, std::size_t max_bytes) const;
  // Removes the `count` oldest records durably (fsync); deletes finished segments.
  bool commit(std::size_t count);
  // fsyncs the tail segment (records appended so far survive a power loss too).
  void sync();

  std::size_t pending() const { return entries_.size(); }
  std::uint64_t pending_bytes() const { return pending_bytes_; }
  const std::string& error() const { return error_; }  // last I/O error

 private:
  struct Entry {
    std::uint64_t segment;
    std::uint64_t offset;
    std::uint32_t length;  // without the '\n'
  };
  DiskSpool(std::string dir, std::uint64_t max_bytes, std::uint64_t segment_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes), segment_bytes_(segment_bytes) {}
  bool recover();
  int segment_fd(std::uint64_t segment) const;
  std::string segment_path(std::uint64_t segment) const;
  bool open_tail(std::uint64_t segment);

  std::string dir_;
  std::uint64_t max_bytes_;
  std::uint64_t segment_bytes_;
  std::deque<Entry> entries_;
  std::uint64_t pending_bytes_ = 0;
  std::uint64_t tail_segment_ = 0;
  std::uint64_t tail_size_ = 0;
  int tail_fd_ = -1;
  int lock_fd_ = -1;
  mutable std::map<std::uint64_t, int> read_fds_;
  mutable std::string error_;
};

}  // namespace flowlier::transport
