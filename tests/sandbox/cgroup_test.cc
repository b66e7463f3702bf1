// Cgroup v2 detection: parsing /proc/self/mountinfo and /proc/self/cgroup,
// and, where this machine gives a writable cgroup with memory and pids, a
// real worker slot.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sandbox/cgroup.h"

namespace milf::sandbox {
namespace {

TEST(CgroupParseTest, FindsTheCgroup2Mount) {
  const std::string mountinfo =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "30 22 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
      "31 22 0:27 / /sys/fs/cgroup/uni\\040fied rw,nosuid shared:10 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(FindCgroup2Mount(mountinfo), "/sys/fs/cgroup/uni fied");
}

TEST(CgroupParseTest, OptionalFieldsDoNotConfuseIt) {
  const std::string mountinfo =
      "31 22 0:27 / /sys/fs/cgroup rw shared:10 master:3 propagate_from:2 - cgroup2 none rw\n";
  EXPECT_EQ(FindCgroup2Mount(mountinfo), "/sys/fs/cgroup");
}

TEST(CgroupParseTest, NoCgroup2MountIsNullopt) {
  EXPECT_FALSE(FindCgroup2Mount("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"));
  EXPECT_FALSE(FindCgroup2Mount(""));
  EXPECT_FALSE(FindCgroup2Mount("garbage without separator cgroup2\n"));
  EXPECT_FALSE(FindCgroup2Mount("1 2 - cgroup2\n"));  // too few fields
}

TEST(CgroupParseTest, FindsTheUnifiedPath) {
  EXPECT_EQ(FindCgroup2Path("4:memory:/a\n0::/user.slice/app.scope\n"), "/user.slice/app.scope");
  EXPECT_EQ(FindCgroup2Path("0::/"), "/");
  EXPECT_FALSE(FindCgroup2Path("4:memory:/a\n1:name=systemd:/\n"));
  EXPECT_FALSE(FindCgroup2Path("0::relative\n"));
}

TEST(CgroupTreeTest, PlacesAProcessWhereAvailable) {
  auto tree = CgroupTree::Create(1);
  if (!tree) GTEST_SKIP() << "no writable cgroup v2 here: " << tree.error().message;
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  auto placed = (*tree)->Place(0, child, 128ull << 20);
  std::ifstream max_file((*tree)->path() / "slot-0" / "memory.max");
  std::string memory_max;
  max_file >> memory_max;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(placed) << placed.error().message;
  EXPECT_EQ(memory_max, std::to_string(128ull << 20));
  EXPECT_FALSE((*tree)->Place(1, child, 1 << 20));  // no such slot
}

}  // namespace
}  // namespace milf::sandbox
