// GET /v1/admin/backup: a consistent copy of the database, streamed to the caller (an admin).
//
// The copy is made by the store (Store::backup: SQLite's online backup API from a read-only
// connection of its own), on the HTTP thread that received the request: in WAL mode that
// reader does not block the core thread's commits, which go on while the copy is made. The copy
// is first written into <state_dir>/backups/ (on the same disk as the database, never a path the
// caller names, so an admin token cannot make berthd write anywhere as its user), then unlinked
// while still open and streamed from its descriptor, so that no copy stays behind on the server.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <httplib.h>

#include "server/daemon.h"
#include "store/state_dir.h"
#include "store/store.h"

namespace berth::server {

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

void send_error(httplib::Response& res, const Status& st) {
  const Reply r = error_reply(st);
  res.status = r.status;
  res.set_content(r.body.dump(), "application/json");
}

// Copies left by an earlier berthd that stopped while making one (another pid in the name);
// this berthd's own are in use by the requests that make them.
void remove_stale_partials(const std::string& dir) {
  const std::string mine = "partial-" + std::to_string(::getpid()) + "-";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("partial-", 0) == 0 && name.rfind(mine, 0) != 0)
      ::unlink((dir + "/" + name).c_str());
  }
  ::closedir(d);
}

// Makes the copy and opens it; the file is gone from the directory once this returns.
Result<int> copy_database(const std::string& state_dir, const store::Store& store) {
  static std::atomic<uint64_t> counter{0};
  const std::string dir = state_dir + "/backups";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::Internal("cannot create " + dir + ": " + std::strerror(errno));
  const std::string path = dir + "/partial-" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1)) + ".db";
  remove_stale_partials(dir);
  BERTH_RETURN_IF_ERROR(store.backup(path));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const int err = errno;
  ::unlink(path.c_str());
  if (fd < 0) return Status::Internal("cannot open the backup " + path + ": " + std::strerror(err));
  return fd;
}

}  // namespace

// The route table has checked that the caller is an admin (routes_admin.cc).
void Daemon::serve_backup(const httplib::Request&, httplib::Response& res) {
  auto fd = copy_database(state_dir_, store());
  if (!fd.ok()) return send_error(res, fd.status());
  struct stat st {};
  if (::fstat(*fd, &st) != 0) {
    ::close(*fd);
    return send_error(
        res, Status::Internal(std::string("cannot read the backup: ") + std::strerror(errno)));
  }
  const int file = *fd;
  res.set_header("Content-Disposition", "attachment; filename=\"berth.db\"");
  res.set_content_provider(
      static_cast<size_t>(st.st_size), "application/vnd.sqlite3",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[kChunkBytes];
        const ssize_t n =
            ::pread(file, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
        if (n <= 0) return false;  // cut short: the client sees fewer bytes than Content-Length
        return sink.write(buf, static_cast<size_t>(n));
      },
      [file](bool) { ::close(file); });
}

}  // namespace berth::server
