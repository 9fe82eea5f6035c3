#include "store/state_dir.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace berth::store {

namespace {

std::string user_name(uid_t uid) {
  const passwd* pw = getpwuid(uid);
  const std::string id = "uid " + std::to_string(uid);
  return pw != nullptr ? std::string(pw->pw_name) + " (" + id + ")" : id;
}

std::string mode_text(mode_t mode) {
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
  return octal;
}

// The identity in a marker file; 0 when the file says nothing we can read.
int64_t parse_identity(const std::string& text) {
  int64_t id = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [next, ec] = std::from_chars(begin, end, id);
  if (ec != std::errc() || next == begin) return 0;
  return id;
}

// A new identity: random and positive, so that it reads the same in the marker and in SQL.
int64_t new_identity() {
  std::random_device random;
  std::uniform_int_distribution<int64_t> pick(1, INT64_MAX);
  return pick(random);
}

// Writes the marker whole or not at all: a temporary file, synced, renamed into place.
Status write_marker(const std::string& path, int64_t id) {
  const std::string tmp = path + ".tmp";
  const std::string line = std::to_string(id) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

std::string refusal(const std::string& state_dir, const std::string& found) {
  return "the state directory " + state_dir + " had state (" + StateMarkerPath(state_dir) +
         " is there), but " + found +
         "; berthd will not start afresh on top of it. Restore the database from a backup "
         "(docs/operations.md); to start with no state on purpose, move the directory away or "
         "remove " +
         StateMarkerPath(state_dir);
}

}  // namespace

std::string StateDbPath(const std::string& state_dir) { return state_dir + "/berth.db"; }
std::string StateMarkerPath(const std::string& state_dir) { return state_dir + "/berth.id"; }

Status CheckWritable(const std::string& path) {
  if (::access(path.c_str(), W_OK) == 0) return Status::Ok();
  const int err = errno;
  struct stat st {};
  std::string what = path;
  if (::stat(path.c_str(), &st) == 0) {
    what += std::string(S_ISDIR(st.st_mode) ? " (a directory" : " (a file") + " owned by " +
            user_name(st.st_uid) + ", mode " + mode_text(st.st_mode) + ")";
  }
  return Status::Internal("berthd runs as " + user_name(geteuid()) + " and cannot write " + what +
                          ": " + std::strerror(err) +
                          "; give that user write access, or run berthd as the owner");
}

Result<std::unique_ptr<SqliteStore>> OpenStateStore(const std::string& state_dir) {
  BERTH_RETURN_IF_ERROR(CheckWritable(state_dir));
  const std::string db_path = StateDbPath(state_dir);
  const std::string marker_path = StateMarkerPath(state_dir);
  struct stat db_st {};
  const bool have_db = ::stat(db_path.c_str(), &db_st) == 0;
  if (have_db) BERTH_RETURN_IF_ERROR(CheckWritable(db_path));
  int64_t marker_id = 0;
  const bool have_marker = ::access(marker_path.c_str(), F_OK) == 0;
  if (have_marker) {
    std::ifstream in(marker_path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    marker_id = parse_identity(text);
    if (marker_id == 0)
      return Status::Internal(marker_path + " does not hold a state identity (a number)");
    // Checked before SQLite would create an empty database in its place.
    if (!have_db)
      return Status::Internal(refusal(state_dir, "its database " + db_path + " is missing"));
    if (db_st.st_size == 0)
      return Status::Internal(refusal(state_dir, "its database " + db_path + " is empty"));
  }
  BERTH_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(db_path));
  BERTH_ASSIGN_OR_RETURN(auto db_id, store->identity());
  if (have_marker) {
    if (db_id == 0)
      return Status::Internal(refusal(
          state_dir, "its database " + db_path + " holds no state identity (a new database?)"));
    if (db_id != marker_id)
      return Status::Internal(
          refusal(state_dir, "its database " + db_path + " holds the state " +
                                 std::to_string(db_id) + ", not " + std::to_string(marker_id) +
                                 " (a database from another state directory?)"));
    return store;
  }
  int64_t id = db_id;
  if (id == 0) {
    id = new_identity();
    BERTH_RETURN_IF_ERROR(store->set_identity(id));
  }
  BERTH_RETURN_IF_ERROR(write_marker(marker_path, id));
  return store;
}

Result<core::ReconcileReport> ReconcileStateDir(const std::string& state_dir,
                                                const core::ReconcileOptions& options) {
  const std::string path = StateDbPath(state_dir);
  if (!std::filesystem::is_regular_file(path))
    return Status::NotFound("no berth database at " + path);
  BERTH_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(path));
  BERTH_ASSIGN_OR_RETURN(core::ChangeSet rows, store->load(nullptr));
  return core::reconcile(rows, options);
}

}  // namespace berth::store
