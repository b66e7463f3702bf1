#include "wast2json.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

extern char** environ;

namespace milf::spec {
namespace {

// Owns a posix_spawn_file_actions_t for the duration of one spawn.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

std::string FirstLine(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

Result<int, std::string> WaitForExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return Fail("wast2json killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace

Result<TempDir, std::string> TempDir::Create() {
  std::error_code error;
  const std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) return Fail("no temporary directory: " + error.message());
  std::string pattern = (base / "milf-spec-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Fail("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return TempDir(std::filesystem::path(pattern));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    TempDir doomed(std::move(*this));
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;  // best effort: nothing useful to do on failure
  std::filesystem::remove_all(path_, ignored);
}

Result<std::filesystem::path, ConvertError> ConvertWast(const std::filesystem::path& wast,
                                                        const TempDir& dir) {
  using Kind = ConvertError::Kind;
  const std::filesystem::path json = dir.path() / "script.json";
  const std::filesystem::path log = dir.path() / "wast2json.log";
  FileActions actions;
  if (posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null", O_WRONLY, 0) ||
      posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600)) {
    return Fail(ConvertError{Kind::kToolFailed, "posix_spawn_file_actions_addopen failed"});
  }
  std::string program = "wast2json";
  std::string input = wast.string();
  std::string flag = "-o";
  std::string output = json.string();
  std::vector<char*> argv = {program.data(), input.data(), flag.data(), output.data(), nullptr};
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, argv.data(), environ);
  if (spawned != 0) {
    return Fail(ConvertError{Kind::kToolFailed,
                             "cannot run wast2json: " + std::string(std::strerror(spawned))});
  }
  auto exit_code = WaitForExit(pid);
  if (!exit_code) return Fail(ConvertError{Kind::kToolFailed, exit_code.error()});
  if (*exit_code != 0) {
    return Fail(ConvertError{
        Kind::kRejected,
        "wast2json exited with " + std::to_string(*exit_code) + ": " + FirstLine(log)});
  }
  return json;
}

}  // namespace milf::spec
