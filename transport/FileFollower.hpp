#pragma once
// Follows files and directories as they grow, with tail -F semantics, by polling (the
// caller calls poll() every ~200 ms; no inotify).
// - A file is read from its start when first seen, then whatever is appended, cut into
//   chunks of whole lines by a LineChunker (header remembered per file).
// - Rotation: when the path names another inode, the rest of the old file is read
//   through the still-open descriptor, then the new file is read from its start.
//   Truncation (size below what was read): read again from the start.
// - A directory: its regular files (not dot-files), in it and in its subdirectories
//   (not dot-directories) down to max_depth levels, up to max_files, are followed as
//   they appear; what the bounds leave out is counted (tree_skipped). The files found
//   in one poll are read oldest first by Options::start_time (then file name, then
//   path, as replay orders them), at most max_bytes_per_poll in all, and each gets a
//   source number in that order, so that a caller can merge their records by time
//   (pipeline/RecordMerge); behind() names the files a poll left unfinished. A file
//   renamed inside it (app.log -> app.log.1) is not read twice, since an inode already
//   followed is skipped (an inode freed and reused within one poll interval would be
//   skipped too). `.gz` files are read whole once their size has been stable for
//   gzip_settle (the writer is done), then never again. A file in a directory unchanged
//   for park_after_idle is closed until it grows (no descriptor per finished blob).
// A path that does not exist yet is waited for. Nothing here throws on bad files:
// errors are counted.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "transport/LineChunker.hpp"

namespace flowlier::transport {

class FileFollower {
 public:
  struct Options {
    std::size_t max_chunk_bytes = 1 << 20;
    LineChunker::HeaderTest is_header;
    std::chrono::milliseconds gzip_settle{1000};
    std::size_t max_gzip_bytes = 256 << 20;  // inflated size; larger files are refused
    // When a file's records begin (ns; FileIngest::start_time), to read new files oldest
    // first; unset or nullopt: before every file with a time.
    std::function<std::optional<std::int64_t>(const std::string& path)> start_time;
    std::size_t max_depth = 32;      // directory levels below a followed directory (Azure blob paths are 16 deep)
    std::size_t max_files = 100000;  // files followed under one followed directory
    // Bytes read by one poll, all files together; the rest waits for the next poll, so
    // a large backlog is read (and merged) in bounded pieces, oldest files first. Small,
    // since a caller may hold what one poll read decoded (about 3.6 times the text of an
    // Azure blob in RecordWire form).
    std::size_t max_bytes_per_poll = 4 << 20;
    // A file in a followed directory unchanged for this long is closed and reopened
    // where it stopped once it grows, so a tree of thousands of finished blobs holds no
    // descriptor for each. Files named directly stay open (tail -F rotation).
    std::chrono::milliseconds park_after_idle{30000};
  };
  struct Counters {
    std::uint64_t files_opened = 0;
    std::uint64_t rotations = 0;      // inode changed under a followed path
    std::uint64_t truncations = 0;
    std::uint64_t gzip_files = 0;     // .gz files read whole
    std::uint64_t errors = 0;         // unreadable files, corrupt gzip
    std::uint64_t tree_skipped = 0;   // files and directories the last poll left out (max_depth, max_files)
  };
  // Receives one chunk of whole lines of the file numbered `source`.
  using SourceEmit = std::function<void(std::uint64_t source, std::string&& chunk)>;
  // A file the last poll did not read to its end (the poll's byte budget, a .gz not yet
  // settled): its records may begin as early as `start` (ns), or where it was read to.
  struct Behind {
    std::uint64_t source;
    std::int64_t start;
  };

  FileFollower(std::vector<std::string> paths, Options options);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  // One pass: reads what is new in every followed file and emits it, ending with the
  // complete lines read so far (a partial last line waits for its newline).
  void poll(const SourceEmit& emit);
  void poll(const LineChunker::Emit& emit);
  const Counters& counters() const { return counters_; }
  // The path of a source number given to SourceEmit ("" if unknown).
  std::string path_of(std::uint64_t source) const {
    for (const auto& [path, f] : files_) {
      if (f.source == source) return path;
    }
    return {};
  }
  const std::vector<Behind>& behind() const { return behind_; }
  // The last poll stopped at max_bytes_per_poll: poll again without waiting.
  bool budget_spent() const { return poll_bytes_ >= options_.max_bytes_per_poll; }

  // Read positions, like Vector's file source checkpoints: per followed file its
  // device, inode, a fingerprint of its first bytes and the offset up to which its
  // lines were emitted (gzip files: read whole). Text, one file per line.
  std::string checkpoints() const;
  // Before the first poll: a file found again (same device, inode and fingerprint, not
  // shorter than the offset) is resumed at its offset, a gzip file read whole is not
  // read again; anything else is read from its start. False on a malformed text.
  bool restore_checkpoints(const std::string& text);

 private:
  struct Followed {
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t offset = 0;
    bool gzip = false;
    bool done = false;  // gzip read (or refused): nothing more to do
    off_t gzip_size = -1;
    std::chrono::steady_clock::time_point stable_since;
    std::unique_ptr<LineChunker> chunker;
    bool in_tree = false;  // found in a followed directory: may be parked
    off_t idle_offset = -1;  // the offset when it was last seen to change
    std::chrono::steady_clock::time_point idle_since;
    bool parked = false;  // closed while idle at its end: dev, ino and offset kept
    std::uint64_t parked_fingerprint = 0;
    std::uint64_t parked_fingerprint_bytes = 0;
    std::uint64_t source = 0;  // numbered in reading order when first seen
    std::int64_t start = std::numeric_limits<std::int64_t>::min();  // Options::start_time
  };
  struct Checkpoint {
    dev_t dev = 0;
    ino_t ino = 0;
    std::uint64_t fingerprint = 0;  // FNV-1a of the first fingerprint_bytes bytes
    std::uint64_t fingerprint_bytes = 0;
    std::int64_t offset = 0;  // -1: a gzip file read whole
  };
  // The checkpoint saved for this open file, if it is the same file: resumes there.
  void resume_from_checkpoint(Followed& f);
  std::uint64_t fingerprint_of(int fd, std::uint64_t bytes) const;

  void poll_path(const std::string& path, const SourceEmit& emit);
  // Regular files under `dir` (recursively, bounded) into `found`; false if `dir` cannot
  // be listed. `visited`: directories listed so far, so a symlink loop is listed once.
  bool list_tree(const std::string& dir, std::size_t depth, std::set<std::string>& found,
                 std::set<std::pair<dev_t, ino_t>>& visited);
  // Numbers the files first seen in this poll, oldest first.
  void number_new_files(const std::vector<std::string>& paths);
  void poll_one(const std::string& path, Followed& f, const SourceEmit& emit);
  // A parked file: false while it is unchanged; else reopened where it stopped (grown),
  // or made to be read again from its start (replaced or truncated).
  bool unpark(const std::string& path, Followed& f);
  void park_if_idle(Followed& f);
  void poll_file(const std::string& path, Followed& f, const LineChunker::Emit& emit);
  void poll_gzip(const std::string& path, Followed& f, const LineChunker::Emit& emit);
  bool open_file(const std::string& path, Followed& f);
  void read_available(Followed& f, const LineChunker::Emit& emit);
  bool inode_followed(dev_t dev, ino_t ino, const std::string& except) const;

  std::vector<std::string> paths_;
  Options options_;
  std::map<std::string, Followed> files_;
  // Inodes read to their end after a rotation, skipped if they show up under a new
  // name in a followed directory; forgotten once no listing shows them any more.
  std::set<std::pair<dev_t, ino_t>> retired_;
  std::set<std::pair<dev_t, ino_t>> listed_;  // inodes seen in this poll's listings
  Counters counters_;
  std::vector<Checkpoint> restored_;  // from restore_checkpoints(), each used once
  std::uint64_t next_source_ = 1;
  std::size_t poll_bytes_ = 0;  // read by the current poll
  std::vector<Behind> behind_;
};

}  // namespace flowlier::transport
