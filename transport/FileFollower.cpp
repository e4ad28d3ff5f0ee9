#include "transport/FileFollower.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <set>

namespace flowlier::transport {

namespace {
constexpr std::size_t kReadBytes = 1 << 16;
constexpr std::size_t kMaxBytesPerPass = 64 << 20;  // one huge file cannot starve the others

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
    if (path != except && f.dev == dev && f.ino == ino && (f.fd >= 0 || f.done)) return true;
  }
  return false;
}

void FileFollower::poll(const LineChunker::Emit& emit) {
  listed_.clear();
  for (const auto& path : paths_) poll_path(path, emit);
  std::erase_if(retired_, [this](const auto& inode) { return !listed_.count(inode); });
}

void FileFollower::poll_path(const std::string& path, const LineChunker::Emit& emit) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists || !S_ISDIR(st.st_mode)) {
    auto& f = files_[path];
    f.gzip = ends_with_gz(path);
    if (f.gzip) {
      if (exists) poll_gzip(path, f, emit);
    } else {
      poll_file(path, f, emit);
    }
    return;
  }
  // A directory: follow its regular files; forget the ones that went away.
  std::set<std::string> present;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const std::string child = path + "/" + entry->d_name;
      struct stat cs {};
      if (::stat(child.c_str(), &cs) != 0 || !S_ISREG(cs.st_mode)) continue;
      present.insert(child);
      listed_.insert({cs.st_dev, cs.st_ino});
    }
    ::closedir(dir);
  } else {
    ++counters_.errors;
    return;
  }
  for (auto it = files_.begin(); it != files_.end();) {
    const bool inside = it->first.size() > path.size() && it->first.compare(0, path.size() + 1, path + "/") == 0;
    if (inside && !present.count(it->first)) {
      // Deleted: what is left in the open file is still read.
      if (it->second.fd >= 0) {
        read_available(it->second, emit);
        it->second.chunker->finish(emit);
        ::close(it->second.fd);
      }
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
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
      if (inode_followed(cs.st_dev, cs.st_ino, child)) {
        // Renamed by rotation: its lines are read through the descriptor opened under
        // the old name; reading it again here would duplicate them.
        f.dev = cs.st_dev;
        f.ino = cs.st_ino;
        f.done = true;
      }
      found = files_.emplace(child, std::move(f)).first;
    }
    auto& f = found->second;
    if (f.gzip) {
      poll_gzip(child, f, emit);
    } else if (!f.done) {
      poll_file(child, f, emit);
    }
  }
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
  return true;
}

void FileFollower::read_available(Followed& f, const LineChunker::Emit& emit) {
  char buffer[kReadBytes];
  std::size_t total = 0;
  while (total < kMaxBytesPerPass) {
    const ssize_t n = ::pread(f.fd, buffer, sizeof buffer, f.offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    f.offset += n;
    total += static_cast<std::size_t>(n);
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
  f.done = true;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
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
