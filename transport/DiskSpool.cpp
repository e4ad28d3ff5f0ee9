#include "transport/DiskSpool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace flowlier::transport {

namespace fs = std::filesystem;

std::unique_ptr<DiskSpool> DiskSpool::open(const std::string& dir, std::uint64_t max_bytes, std::string& error,
                                           std::uint64_t segment_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create spool directory {}: {}", dir, ec.message());
    return nullptr;
  }
  std::unique_ptr<DiskSpool> spool(new DiskSpool(dir, max_bytes, segment_bytes));
  spool->lock_fd_ = ::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd_ < 0 || ::flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    error = fmt::format("spool directory {} is in use by another process (or not writable)", dir);
    return nullptr;
  }
  if (!spool->recover()) {
    error = spool->error_;
    return nullptr;
  }
  return spool;
}

DiskSpool::~DiskSpool() {
  if (tail_fd_ >= 0) ::close(tail_fd_);
  for (auto& [segment, fd] : read_fds_) ::close(fd);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string DiskSpool::segment_path(std::uint64_t segment) const {
  return fmt::format("{}/seg-{:012}.log", dir_, segment);
}

bool DiskSpool::recover() {
  std::uint64_t committed_segment = 0, committed_offset = 0;
  if (FILE* f = std::fopen((dir_ + "/committed").c_str(), "r")) {
    unsigned long long s = 0, o = 0;
    if (std::fscanf(f, "%llu %llu", &s, &o) == 2) committed_segment = s, committed_offset = o;
    std::fclose(f);
  }
  std::vector<std::uint64_t> segments;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (name.size() == 20 && name.rfind("seg-", 0) == 0 && name.ends_with(".log")) {
      const auto n = std::stoull(name.substr(4, 12));
      if (n < committed_segment) fs::remove(entry.path());  // finished before a crash could delete it
      else segments.push_back(n);
    }
  }
  std::sort(segments.begin(), segments.end());
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto segment = segments[i];
    const auto path = segment_path(segment);
    std::string data;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buffer[1 << 16];
      std::size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) data.append(buffer, n);
      std::fclose(f);
    }
    std::uint64_t pos = segment == committed_segment ? std::min<std::uint64_t>(committed_offset, data.size()) : 0;
    while (pos < data.size()) {
      const auto nl = data.find('\n', pos);
      if (nl == std::string::npos) break;
      entries_.push_back({segment, pos, static_cast<std::uint32_t>(nl - pos)});
      pending_bytes_ += nl - pos + 1;
      pos = nl + 1;
    }
    const auto complete = data.rfind('\n') == std::string::npos ? 0 : data.rfind('\n') + 1;
    if (complete < data.size()) {
      // A torn record from a crash mid-append: never acknowledged to anyone, cut it.
      if (::truncate(path.c_str(), static_cast<off_t>(complete)) != 0) {
        error_ = fmt::format("cannot truncate {}: {}", path, std::strerror(errno));
        return false;
      }
    }
    if (i + 1 == segments.size()) {
      tail_segment_ = segment;
      tail_size_ = complete;
    }
  }
  if (segments.empty()) tail_segment_ = committed_segment;
  return open_tail(tail_segment_);
}

bool DiskSpool::open_tail(std::uint64_t segment) {
  if (tail_fd_ >= 0) ::close(tail_fd_);
  tail_segment_ = segment;
  tail_fd_ = ::open(segment_path(segment).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (tail_fd_ < 0) {
    error_ = fmt::format("cannot open spool segment {}: {}", segment_path(segment), std::strerror(errno));
    return false;
  }
  tail_size_ = static_cast<std::uint64_t>(::lseek(tail_fd_, 0, SEEK_END));
  return true;
}

DiskSpool::Append DiskSpool::append(std::string_view record) {
  if (pending_bytes_ + record.size() + 1 > max_bytes_) return Append::full;
  if (tail_fd_ < 0) return Append::error;
  if (tail_size_ >= segment_bytes_) {
    ::fdatasync(tail_fd_);
    if (!open_tail(tail_segment_ + 1)) return Append::error;
  }
  std::string line(record);
  line += '\n';
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::write(tail_fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = fmt::format("cannot write the spool: {}", std::strerror(errno));
      // Cut what was written so the file stays whole lines.
      if (::ftruncate(tail_fd_, static_cast<off_t>(tail_size_)) != 0) tail_fd_ = -1;
      return Append::error;
    }
    written += static_cast<std::size_t>(n);
  }
  entries_.push_back({tail_segment_, tail_size_, static_cast<std::uint32_t>(record.size())});
  tail_size_ += line.size();
  pending_bytes_ += line.size();
  return Append::ok;
}

int DiskSpool::segment_fd(std::uint64_t segment) const {
  if (auto it = read_fds_.find(segment); it != read_fds_.end()) return it->second;
  const int fd = ::open(segment_path(segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) read_fds_[segment] = fd;
  return fd;
}

std::vector<std::string> DiskSpool::peek(std::size_t max_records, std::size_t max_bytes) const {
  std::vector<std::string> out;
  std::size_t bytes = 0;
  for (const auto& e : entries_) {
    if (out.size() >= max_records || (!out.empty() && bytes + e.length > max_bytes)) break;
    std::string record(e.length, '\0');
    const int fd = segment_fd(e.segment);
    if (fd < 0 || ::pread(fd, record.data(), e.length, static_cast<off_t>(e.offset)) != static_cast<ssize_t>(e.length)) {
      error_ = fmt::format("cannot read spool segment {}", e.segment);
      record.clear();  // the sender dead-letters an unreadable record with a reason
    }
    bytes += e.length;
    out.push_back(std::move(record));
  }
  return out;
}

bool DiskSpool::commit(std::size_t count) {
  count = std::min(count, entries_.size());
  if (count == 0) return true;
  const Entry last = entries_[count - 1];
  for (std::size_t i = 0; i < count; ++i) pending_bytes_ -= entries_[i].length + 1;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(count));
  const auto committed_segment = last.segment;
  const auto committed_offset = last.offset + last.length + 1;
  const auto temp = dir_ + "/committed.tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error_ = fmt::format("cannot write {}: {}", temp, std::strerror(errno));
    return false;
  }
  const auto text = fmt::format("{} {}\n", committed_segment, committed_offset);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), (dir_ + "/committed").c_str()) != 0) {
    error_ = fmt::format("cannot commit the spool offset: {}", std::strerror(errno));
    return false;
  }
  if (const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  // Segments wholly before the committed one are done.
  for (auto it = read_fds_.begin(); it != read_fds_.end();) {
    if (it->first < committed_segment) {
      ::close(it->second);
      it = read_fds_.erase(it);
    } else {
      ++it;
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() == 20 && name.rfind("seg-", 0) == 0 && std::stoull(name.substr(4, 12)) < committed_segment)
      fs::remove(entry.path(), ec);
  }
  return true;
}

void DiskSpool::sync() {
  if (tail_fd_ >= 0) ::fdatasync(tail_fd_);
}

}  // namespace flowlier::transport
