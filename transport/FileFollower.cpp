#include "transport/FileFollower.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace flowlier::transport {

namespace {
constexpr std::size_t kReadBytes = 1 << 16;
constexpr std::size_t kMaxBytesPerPass = 64 << 20;  // one huge file cannot starve the others
constexpr std::uint64_t kFingerprintBytes = 1024;    // a file is told apart by its first bytes (and inode)
constexpr std::size_t kMaxFirstLine = 1 << 20;

std::uint64_t fnv1a(const char* data, std::size_t size, std::uint64_t hash = 1469598103934665603ull) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

bool ends_with_gz(const std::string& path) { return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0; }
}  // namespace

FileFollower::FileFollower(std::vector<std::string> paths, Options options)
    : paths_(std::move(paths)), options_(std::move(options)) {}

FileFollower::~FileFollower() {
  for (auto& [path, f] : files_) {
    if (f.fd >= 0) ::close(f.fd);
  }
}

bool FileFollower::inode_followed(dev_t dev, ino_t ino, const std::string& except) const {
  if (retired_.count({dev, ino})) return true;
  for (const auto& [path, f] : files_) {
    if (path != except && f.dev == dev && f.ino == ino && (f.fd >= 0 || f.done || f.parked)) return true;
  }
  return false;
}

void FileFollower::poll(const LineChunker::Emit& emit) {
  poll([&emit](std::uint64_t, std::string&& chunk) { emit(std::move(chunk)); });
}

void FileFollower::poll(const SourceEmit& emit) {
  listed_.clear();
  behind_.clear();
  poll_bytes_ = 0;
  counters_.tree_skipped = 0;
  for (const auto& path : paths_) poll_path(path, emit);
  std::erase_if(retired_, [this](const auto& inode) { return !listed_.count(inode); });
}

bool FileFollower::list_tree(const std::string& dir_path, std::size_t depth, std::set<std::string>& found,
                             std::set<std::pair<dev_t, ino_t>>& visited) {
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) return false;
  std::vector<std::string> subdirs;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string child = dir_path + "/" + entry->d_name;
    struct stat cs {};
    if (::stat(child.c_str(), &cs) != 0) continue;
    if (S_ISDIR(cs.st_mode)) {
      if (visited.insert({cs.st_dev, cs.st_ino}).second) subdirs.push_back(child);  // else: a symlink loop
    } else if (S_ISREG(cs.st_mode)) {
      if (found.size() >= options_.max_files) {
        ++counters_.tree_skipped;
        continue;
      }
      found.insert(child);
      listed_.insert({cs.st_dev, cs.st_ino});
    }
  }
  ::closedir(dir);
  for (const auto& sub : subdirs) {
    // Deeper than max_depth, or not listable: left out, counted.
    if (depth + 1 > options_.max_depth || !list_tree(sub, depth + 1, found, visited)) ++counters_.tree_skipped;
  }
  return true;
}

void FileFollower::number_new_files(const std::vector<std::string>& paths) {
  struct New {
    std::int64_t start;
    std::string name;
    const std::string* path;
  };
  std::vector<New> fresh;
  for (const auto& path : paths) {
    const auto t = options_.start_time ? options_.start_time(path) : std::nullopt;
    fresh.push_back({t.value_or(std::numeric_limits<std::int64_t>::min()), path.substr(path.rfind('/') + 1), &path});
  }
  // Replay's order (FileIngest, time_order): by start, then file name, then path.
  std::sort(fresh.begin(), fresh.end(), [](const New& a, const New& b) {
    if (a.start != b.start) return a.start < b.start;
    return a.name != b.name ? a.name < b.name : *a.path < *b.path;
  });
  for (const auto& n : fresh) {
    auto& f = files_[*n.path];
    f.start = n.start;
    f.source = next_source_++;
  }
}

void FileFollower::poll_one(const std::string& path, Followed& f, const SourceEmit& emit) {
  const LineChunker::Emit file_emit = [&emit, source = f.source](std::string&& chunk) {
    emit(source, std::move(chunk));
  };
  if (f.gzip) {
    poll_gzip(path, f, file_emit);
    if (!f.done && f.gzip_size > 0) behind_.push_back({f.source, f.start});
    return;
  }
  if (f.done || (f.parked && !unpark(path, f))) return;
  poll_file(path, f, file_emit);
  struct stat st {};
  if (f.fd >= 0 && ::fstat(f.fd, &st) == 0 && st.st_size > f.offset) behind_.push_back({f.source, f.start});
  if (f.in_tree) park_if_idle(f);
}

void FileFollower::park_if_idle(Followed& f) {
  const auto now = std::chrono::steady_clock::now();
  struct stat st {};
  if (f.fd < 0 || f.chunker->buffered() != 0 || ::fstat(f.fd, &st) != 0 || st.st_size != f.offset ||
      f.offset != f.idle_offset) {
    f.idle_offset = f.offset;
    f.idle_since = now;
    return;
  }
  if (now - f.idle_since < options_.park_after_idle) return;
  // Its checkpoint, taken now, stays valid while it is closed.
  f.parked_fingerprint_bytes = std::min<std::uint64_t>(kFingerprintBytes, static_cast<std::uint64_t>(f.offset));
  f.parked_fingerprint = fingerprint_of(f.fd, f.parked_fingerprint_bytes);
  ::close(f.fd);
  f.fd = -1;
  f.parked = true;
  f.idle_offset = -1;
}

bool FileFollower::unpark(const std::string& path, Followed& f) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;  // gone: the listing forgets it
  const bool same = st.st_dev == f.dev && st.st_ino == f.ino;
  if (same && st.st_size == f.offset) return false;
  f.parked = false;
  if (same && st.st_size > f.offset) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat opened {};
    // The same first bytes too: a file deleted while closed may leave its inode to a new one.
    if (fd >= 0 && ::fstat(fd, &opened) == 0 && opened.st_dev == f.dev && opened.st_ino == f.ino &&
        fingerprint_of(fd, f.parked_fingerprint_bytes) == f.parked_fingerprint) {
      f.fd = fd;  // grew: on from where it stopped, its header still in the chunker
      return true;
    }
    if (fd >= 0) ::close(fd);
  }
  // Replaced or truncated while closed: a new file, read from its start.
  ++(same ? counters_.truncations : counters_.rotations);
  f.dev = 0;
  f.ino = 0;
  f.offset = 0;
  return true;
}

void FileFollower::poll_path(const std::string& path, const SourceEmit& emit) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists || !S_ISDIR(st.st_mode)) {
    if (!files_.count(path)) number_new_files({path});
    auto& f = files_[path];
    f.gzip = ends_with_gz(path);
    if (f.gzip && !exists) return;
    poll_one(path, f, emit);
    return;
  }
  // A directory tree: follow its regular files; forget the ones that went away.
  std::set<std::string> present;
  std::set<std::pair<dev_t, ino_t>> visited{{st.st_dev, st.st_ino}};
  if (!list_tree(path, 0, present, visited)) {
    ++counters_.errors;
    return;
  }
  for (auto it = files_.begin(); it != files_.end();) {
    const bool inside = it->first.size() > path.size() && it->first.compare(0, path.size() + 1, path + "/") == 0;
    if (inside && !present.count(it->first)) {
      // Deleted: what is left in the open file is still read.
      if (it->second.fd >= 0) {
        const LineChunker::Emit file_emit = [&emit, source = it->second.source](std::string&& chunk) {
          emit(source, std::move(chunk));
        };
        read_available(it->second, file_emit);
        it->second.chunker->finish(file_emit);
        ::close(it->second.fd);
      }
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::string> fresh;
  for (const auto& child : present) {
    auto found = files_.find(child);
    struct stat cs {};
    if (::stat(child.c_str(), &cs) != 0) continue;
    if (found != files_.end() && found->second.done && !found->second.gzip &&
        (found->second.dev != cs.st_dev || found->second.ino != cs.st_ino)) {
      files_.erase(found);  // a skipped (renamed) file was replaced: look again
      found = files_.end();
    }
    if (found == files_.end()) {
      Followed f;
      f.gzip = ends_with_gz(child);
      f.in_tree = true;
      if (inode_followed(cs.st_dev, cs.st_ino, child)) {
        // Renamed by rotation: its lines are read through the descriptor opened under
        // the old name; reading it again here would duplicate them.
        f.dev = cs.st_dev;
        f.ino = cs.st_ino;
        f.done = true;
      }
      files_.emplace(child, std::move(f));
      fresh.push_back(child);
    }
  }
  number_new_files(fresh);
  // Oldest first, so the poll's byte budget goes to the files the merge needs first.
  std::vector<std::pair<const std::string*, Followed*>> order;
  for (const auto& child : present) {
    if (auto found = files_.find(child); found != files_.end()) order.emplace_back(&found->first, &found->second);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second->start != b.second->start ? a.second->start < b.second->start
                                              : a.second->source < b.second->source;
  });
  for (const auto& [child, f] : order) poll_one(*child, *f, emit);
}

bool FileFollower::open_file(const std::string& path, Followed& f) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) ++counters_.errors;
    return false;
  }
  struct stat st {};
  ::fstat(fd, &st);
  f.fd = fd;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.offset = 0;
  if (!f.chunker) f.chunker = std::make_unique<LineChunker>(options_.max_chunk_bytes, options_.is_header);
  f.chunker->reset();
  ++counters_.files_opened;
  resume_from_checkpoint(f);
  return true;
}

std::uint64_t FileFollower::fingerprint_of(int fd, std::uint64_t bytes) const {
  std::string head(bytes, '\0');
  std::uint64_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::pread(fd, head.data() + got, bytes - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::uint64_t>(n);
  }
  return got == bytes ? fnv1a(head.data(), head.size()) : 0;
}

void FileFollower::resume_from_checkpoint(Followed& f) {
  if (restored_.empty()) return;
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return;
  for (auto it = restored_.begin(); it != restored_.end(); ++it) {
    if (it->dev != f.dev || it->ino != f.ino || it->offset < 0) continue;
    const Checkpoint c = *it;
    restored_.erase(it);
    // The same file: same inode, same first bytes, and not truncated since.
    if (st.st_size < c.offset || c.fingerprint != fingerprint_of(f.fd, c.fingerprint_bytes)) return;
    // Its header (the first line) still decodes every later chunk.
    std::string first(std::min<std::uint64_t>(kMaxFirstLine, static_cast<std::uint64_t>(c.offset)), '\0');
    const ssize_t n = ::pread(f.fd, first.data(), first.size(), 0);
    first.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    const auto newline = first.find('\n');
    if (newline != std::string::npos) f.chunker->resume(std::string_view(first).substr(0, newline));
    f.offset = static_cast<off_t>(c.offset);
    return;
  }
}

std::string FileFollower::checkpoints() const {
  std::string out;
  for (const auto& [path, f] : files_) {
    if (f.dev == 0 && f.ino == 0) continue;
    std::int64_t offset = -1;
    std::uint64_t bytes = 0, fingerprint = 0;
    if (f.gzip) {
      if (!f.done) continue;
    } else if (f.fd >= 0) {
      // Only lines already emitted count as read.
      offset = static_cast<std::int64_t>(f.offset) - static_cast<std::int64_t>(f.chunker->buffered());
      bytes = std::min<std::uint64_t>(kFingerprintBytes, static_cast<std::uint64_t>(std::max<std::int64_t>(offset, 0)));
      fingerprint = fingerprint_of(f.fd, bytes);
    } else if (f.parked) {
      offset = static_cast<std::int64_t>(f.offset);
      bytes = f.parked_fingerprint_bytes;
      fingerprint = f.parked_fingerprint;
    } else {
      continue;  // renamed by rotation and skipped, or not open: nothing of its own
    }
    out += fmt::format("{} {} {} {} {}\n", static_cast<std::uint64_t>(f.dev), static_cast<std::uint64_t>(f.ino),
                       fingerprint, bytes, offset);
  }
  return out;
}

bool FileFollower::restore_checkpoints(const std::string& text) {
  std::istringstream in(text);
  std::vector<Checkpoint> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::uint64_t dev = 0, ino = 0;
    Checkpoint c;
    if (!(fields >> dev >> ino >> c.fingerprint >> c.fingerprint_bytes >> c.offset) ||
        c.fingerprint_bytes > kFingerprintBytes) {
      return false;
    }
    c.dev = static_cast<dev_t>(dev);
    c.ino = static_cast<ino_t>(ino);
    out.push_back(c);
  }
  restored_ = std::move(out);
  return true;
}

void FileFollower::read_available(Followed& f, const LineChunker::Emit& emit) {
  char buffer[kReadBytes];
  std::size_t total = 0;
  while (total < kMaxBytesPerPass && poll_bytes_ < options_.max_bytes_per_poll) {
    const ssize_t n = ::pread(f.fd, buffer, sizeof buffer, f.offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    f.offset += n;
    total += static_cast<std::size_t>(n);
    poll_bytes_ += static_cast<std::size_t>(n);
    f.chunker->feed(std::string_view(buffer, static_cast<std::size_t>(n)), emit);
  }
}

void FileFollower::poll_file(const std::string& path, Followed& f, const LineChunker::Emit& emit) {
  if (f.fd < 0 && !open_file(path, f)) return;
  struct stat st {};
  if (::fstat(f.fd, &st) == 0 && st.st_size < f.offset) {
    // Truncated (copytruncate rotation): the file starts over.
    ++counters_.truncations;
    f.offset = 0;
    f.chunker->reset();
  }
  read_available(f, emit);
  struct stat now {};
  if (::stat(path.c_str(), &now) == 0 && (now.st_dev != f.dev || now.st_ino != f.ino)) {
    // Rotated: the old file is read to its end (done above); its last line counts
    // even without a newline, since nobody will write to it any more.
    ++counters_.rotations;
    retired_.insert({f.dev, f.ino});
    f.chunker->finish(emit);
    ::close(f.fd);
    f.fd = -1;
    if (!open_file(path, f)) return;
    read_available(f, emit);
  }
  f.chunker->flush(emit);
}

void FileFollower::poll_gzip(const std::string& path, Followed& f, const LineChunker::Emit& emit) {
  if (f.done) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (st.st_size != f.gzip_size) {
    f.gzip_size = st.st_size;
    f.stable_since = now;
    return;
  }
  if (st.st_size == 0 || now - f.stable_since < options_.gzip_settle) return;
  if (poll_bytes_ >= options_.max_bytes_per_poll) return;  // the next poll reads it
  f.done = true;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  for (auto it = restored_.begin(); it != restored_.end(); ++it) {
    if (it->dev == f.dev && it->ino == f.ino && it->offset < 0) {
      restored_.erase(it);
      return;  // read whole before a restart
    }
  }
  gzFile in = ::gzopen(path.c_str(), "rb");
  if (in == nullptr) {
    ++counters_.errors;
    return;
  }
  LineChunker chunker(options_.max_chunk_bytes, options_.is_header);
  char buffer[kReadBytes];
  std::size_t total = 0;
  bool ok = true;
  while (true) {
    const int n = ::gzread(in, buffer, sizeof buffer);
    if (n < 0) {
      ok = false;
      break;
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    poll_bytes_ += static_cast<std::size_t>(n);
    if (total > options_.max_gzip_bytes) {
      ok = false;
      break;
    }
    chunker.feed(std::string_view(buffer, static_cast<std::size_t>(n)), emit);
  }
  int error = Z_OK;
  ::gzerror(in, &error);
  ::gzclose(in);
  if (!ok || (error != Z_OK && error != Z_BUF_ERROR)) ++counters_.errors;
  // What decoded before an error is still forwarded: the lines are whole.
  chunker.finish(emit);
  ++counters_.gzip_files;
}

}  // namespace flowlier::transport
