#pragma once
// The live service's episode journal: what each scoring engine published since its last
// snapshot, made durable before it leaves the engine's stage. Snapshots follow a
// wall-clock timer, so without it a kill -9 forgets the episodes published after the
// last one: their resolution never comes, and a later window re-opens them under a
// new id.
//
// One file per engine, <state path>.journal: records of
//   u32 magic 'FLJ1', u32 payload length, u64 FNV-1a of the payload, payload
// where the payload is the close point, the engine's episode changes
// (Engine::take_episode_changes) and the events' JSON. Each append is fdatasync'd
// before the events are forwarded. The scoring stage empties the journal after a
// snapshot once every event it forwarded is in the sinks; on start, records newer than
// the snapshot are applied to the engine's episodes and every journaled event is
// handed to the sinks again (at least once: receivers deduplicate by event id).
#include <cstdint>
#include <string>
#include <vector>

namespace flowlier::service {

class EpisodeJournal {
 public:
  struct Entry {
    std::int64_t close_point = 0;  // the engine's last close point when the events left
    std::string episode_changes;
    std::vector<std::string> events;  // JSON
  };

  // Reads every whole record of `path` (none when it does not exist). A torn or
  // corrupt tail (a crash mid-append) ends the entries; `cut_bytes` says how much of it
  // was ignored. Returns why the file could not be read, or "".
  static std::string read(const std::string& path, std::vector<Entry>& out, std::uint64_t& cut_bytes);

  explicit EpisodeJournal(std::string path) : path_(std::move(path)) {}
  ~EpisodeJournal();
  EpisodeJournal(const EpisodeJournal&) = delete;
  EpisodeJournal& operator=(const EpisodeJournal&) = delete;

  // Opens the file for appending, cutting a torn tail first. "" or why not.
  std::string open();
  // Appends one record and fdatasyncs it. "" or why not.
  std::string append(const Entry& entry);
  // Empties the journal (its records are covered by a snapshot). "" or why not.
  std::string clear();
  bool empty() const { return size_ == 0; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace flowlier::service
