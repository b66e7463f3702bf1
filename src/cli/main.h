// The `milf` command: one binary, one subcommand per job.
#pragma once

namespace milf::cli {

int Main(int argc, char** argv);

}  // namespace milf::cli
