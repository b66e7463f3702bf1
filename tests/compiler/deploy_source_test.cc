// The compiler service through real processes: `milf server`, `milf node`
// and the CLI. Source in, output of an invocation out; compile errors as a
// compiler prints them; the HTTP answers the dashboard's editor uses.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "e2e_support.h"

namespace milf::e2e {
namespace {

namespace fs = std::filesystem;

class DeploySourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    ASSERT_FALSE(cluster_->StartNode("n1", 1).empty());
    env_ = new std::vector<std::string>(cluster_->CliEnvFor("admin", Cluster::kAdminPassword));
  }
  static void TearDownTestSuite() {
    delete env_;
    delete cluster_;
  }

  static fs::path Write(const std::string& name, const std::string& text) {
    const fs::path path = cluster_->dir() / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path;
  }

  static client::HttpResponse Post(const std::string& target, const std::string& content_type,
                                   std::string body) {
    client::HttpRequest request;
    request.method = "POST";
    request.target = target;
    request.content_type = content_type;
    request.body = std::move(body);
    auto response = cluster_->admin().Send(std::move(request));
    EXPECT_TRUE(response) << response.error().message;
    return response ? *response : client::HttpResponse{};
  }

  static Cluster* cluster_;
  static std::vector<std::string>* env_;
};

Cluster* DeploySourceTest::cluster_ = nullptr;
std::vector<std::string>* DeploySourceTest::env_ = nullptr;

TEST_F(DeploySourceTest, CliDeploysCSourceAndTheInvocationPrintsItsOutput) {
  const fs::path source = Write("hello.c",
                                "#include <stdio.h>\n#include <milf.h>\n"
                                "int main(void) { printf(\"hello from source\\n\"); return 0; }\n");
  const CommandResult deployed = RunMilf({"fn", "deploy", "hello-src", source.string()}, *env_);
  ASSERT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;
  EXPECT_NE(deployed.out.find("Compiled c in"), std::string::npos) << deployed.out;
  EXPECT_EQ(RunMilf({"invoke", "hello-src"}, *env_).out, "hello from source\n");

  auto source_answer = cluster_->admin().CallJson("GET", "/functions/hello-src/source");
  ASSERT_TRUE(source_answer) << source_answer.error().message;
  EXPECT_EQ(source_answer->at("filename").as_string(), "hello.c");
  EXPECT_EQ(source_answer->at("text").as_string(),
            "#include <stdio.h>\n#include <milf.h>\n"
            "int main(void) { printf(\"hello from source\\n\"); return 0; }\n");
}

TEST_F(DeploySourceTest, CliPrintsCompileErrorsLikeACompiler) {
  const fs::path source = Write("broken.c", "int main(void) {\n  int x = 1;\n  return x +* ;\n}\n");
  const CommandResult deployed = RunMilf({"fn", "deploy", "broken", source.string()}, *env_);
  EXPECT_NE(deployed.exit_code, 0);
  EXPECT_NE(deployed.err.find("broken.c:3:15: error: expected expression\n"), std::string::npos)
      << deployed.err;
  EXPECT_FALSE(cluster_->admin().CallJson("GET", "/functions/broken"));
}

TEST_F(DeploySourceTest, CliDeploysADirectory) {
  Write("proj/main.c",
        "#include <stdio.h>\n#include \"lib/twice.h\"\n"
        "int main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n");
  Write("proj/lib/twice.h", "int twice(int x);\n");
  Write("proj/lib/twice.c", "#include \"twice.h\"\nint twice(int x) { return 2 * x; }\n");
  const CommandResult deployed =
      RunMilf({"fn", "deploy", "proj", (cluster_->dir() / "proj").string()}, *env_);
  ASSERT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;
  EXPECT_EQ(RunMilf({"invoke", "proj"}, *env_).out, "42\n");
  // Deployed from an archive: no single source to give back.
  client::HttpRequest request;
  request.target = "/functions/proj/source";
  auto source_answer = cluster_->admin().Send(std::move(request));
  ASSERT_TRUE(source_answer);
  EXPECT_EQ(source_answer->status, 404);
}

TEST_F(DeploySourceTest, CompileChecksWithoutDeployingAndCaches) {
  const std::string text = "#include <stdio.h>\nint main(void) { int unused; puts(\"x\"); }\n";
  const auto first = Post("/compile?filename=check.c", "text/plain", text);
  ASSERT_EQ(first.status, 200) << first.body;
  const boost::json::value answer = boost::json::parse(first.body);
  EXPECT_EQ(answer.at("language").as_string(), "c");
  EXPECT_FALSE(answer.at("cached").as_bool());
  EXPECT_GT(answer.at("wasm_size").as_int64(), 0);
  const auto& warning = answer.at("diagnostics").as_array().at(0);
  EXPECT_EQ(warning.at("file").as_string(), "check.c");
  EXPECT_EQ(warning.at("line").as_int64(), 2);
  EXPECT_EQ(warning.at("severity").as_string(), "warning");

  const auto second = Post("/compile?filename=check.c", "text/plain", text);
  ASSERT_EQ(second.status, 200);
  EXPECT_TRUE(boost::json::parse(second.body).at("cached").as_bool());
}

TEST_F(DeploySourceTest, CompileErrorsAnswer422WithDiagnostics) {
  const auto failed =
      Post("/compile?filename=bad.rs", "text/plain", "fn main() {\n    let x: i32 = \"a\";\n}\n");
  ASSERT_EQ(failed.status, 422) << failed.body;
  const boost::json::value answer = boost::json::parse(failed.body);
  EXPECT_EQ(answer.at("error").at("code").as_string(), "compile_failed");
  EXPECT_NE(std::string(answer.at("error").at("message").as_string()).find("bad.rs:2:18: error: "),
            std::string::npos);
  const auto& first = answer.at("diagnostics").as_array().at(0);
  EXPECT_EQ(first.at("line").as_int64(), 2);
  EXPECT_EQ(first.at("column").as_int64(), 18);
}

TEST_F(DeploySourceTest, RefusesBadUploads) {
  EXPECT_EQ(Post("/compile", "text/plain", "int main(){}").status, 400);
  EXPECT_EQ(Post("/compile?filename=a.py", "text/plain", "print(1)").status, 400);
  const auto archive = Post("/compile", "application/gzip", "definitely not gzip");
  EXPECT_EQ(archive.status, 400);
  EXPECT_NE(archive.body.find("invalid_archive"), std::string::npos) << archive.body;
  EXPECT_EQ(Post("/functions/x/source?filename=a.c&bogus=1", "text/plain", "int main(){}").status,
            400);
}

}  // namespace
}  // namespace milf::e2e
