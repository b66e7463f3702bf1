// The compiler service over HTTP (docs/compiler.md): compile a source file
// or archive, deploy the result as a new version, and give back the
// source a version was compiled from.
#include <array>
#include <boost/json.hpp>
#include <memory>

#include "compiler/source/source_compiler.h"
#include "server/api.h"

namespace milf::server {
namespace {

using compiler::CompileOutput;
using compiler::Diagnostic;
using compiler::Project;

// Query keys of a source upload, beside the function settings.
constexpr std::array<std::string_view, 2> kSourceKeys = {"filename", "entry_file"};

bool IsArchiveType(const std::string& content_type) {
  const std::string type = content_type.substr(0, content_type.find(';'));
  return type == "application/x-tar" || type == "application/tar" || type == "application/gzip" ||
         type == "application/x-gzip" || type == "application/x-compressed-tar" ||
         type == "application/zip" || type == "application/x-zip-compressed";
}

// The upload as a Project; the 400 answer otherwise.
Result<Project, HttpResponse> ProjectOf(const HttpRequest& request) {
  const std::string content_type = request.Header("content-type").value_or("");
  if (IsArchiveType(content_type)) {
    const std::span<const std::uint8_t> bytes(
        reinterpret_cast<const std::uint8_t*>(request.body.data()), request.body.size());
    auto project = compiler::ArchiveProject(bytes, request.Query("entry_file").value_or(""));
    if (!project) return Fail(ErrorResponse(400, project.error().code, project.error().message));
    return std::move(*project);
  }
  const auto filename = request.Query("filename");
  if (!filename) {
    return Fail(ErrorResponse(400, "invalid_source",
                              "name the source with ?filename= (hello.c, hello.cpp, index.ts, "
                              "main.rs) or send an archive (application/x-tar, application/gzip, "
                              "application/zip)"));
  }
  auto project = compiler::SingleFileProject(*filename, request.body);
  if (!project) return Fail(ErrorResponse(400, project.error().code, project.error().message));
  return std::move(*project);
}

boost::json::array DiagnosticsJson(const std::vector<Diagnostic>& diagnostics) {
  boost::json::array list;
  for (const Diagnostic& d : diagnostics) {
    list.push_back(boost::json::object{{"file", d.file},
                                       {"line", d.line},
                                       {"column", d.column},
                                       {"severity", d.severity},
                                       {"message", d.message}});
  }
  return list;
}

boost::json::object CompileJson(const CompileOutput& output) {
  return {{"language", compiler::LanguageName(output.language)},
          {"cached", output.cached},
          {"duration_ms", output.duration_ms},
          {"wasm_size", output.wasm.size()},
          {"diagnostics", DiagnosticsJson(output.diagnostics)}};
}

// 422 with the first error as the message and every diagnostic.
HttpResponse CompileFailed(const CompileOutput& output) {
  std::string first = "compilation failed";
  for (const Diagnostic& d : output.diagnostics) {
    if (d.severity == "error") {
      first = compiler::FormatDiagnostic(d);
      break;
    }
  }
  return Json(422, boost::json::object{{"error", {{"code", "compile_failed"}, {"message", first}}},
                                       {"diagnostics", DiagnosticsJson(output.diagnostics)}});
}

HttpResponse ServiceError(const Error& error) {
  if (error.code == "busy" || error.code == "unavailable") {
    HttpResponse response = ErrorResponse(503, "unavailable", error.message);
    if (error.code == "busy") response.headers.emplace_back("Retry-After", "1");
    return response;
  }
  return ErrorResponse(500, "internal", "compiler service: " + error.message);
}

HttpResponse NoCompiler() {
  return ErrorResponse(503, "unavailable",
                       "the compiler service is off: this host cannot create its jail");
}

// The single file a deploy came from, kept for GET .../source.
void KeepSource(ApiContext& api, const Project& project, bool single_file,
                const store::FunctionVersion& version) {
  if (!single_file) return;
  // A source that cannot be kept costs the editor a reload, not the deploy.
  (void)api.store.PutFunctionSource(version.function_id, version.version,
                                    {project.files.front().path, project.files.front().text});
}

void HandleDeploySource(ApiContext& api, const SourceCompilerGetter& get_compiler,
                        HandlerContext& ctx) {
  auto settings = CheckDeployRequest(api, ctx, kSourceKeys);
  if (!settings) return ctx.reply(settings.error());
  auto project = ProjectOf(ctx.request);
  if (!project) return ctx.reply(project.error());
  const bool single_file = !IsArchiveType(ctx.request.Header("content-type").value_or(""));
  api.run_blocking([&api, get_compiler, reply = ctx.reply, owner = ctx.principal->user_id,
                    name = ctx.params.at("name"), project = std::move(*project),
                    settings = std::move(*settings), single_file] {
    compiler::SourceCompiler* compiler = get_compiler();
    if (compiler == nullptr) return reply(NoCompiler());
    auto output = compiler->Compile(project);
    if (!output) return reply(ServiceError(output.error()));
    if (!output->ok) return reply(CompileFailed(*output));
    auto deployed = DeployModule(api, owner, name, output->wasm, settings);
    if (!deployed) return reply(deployed.error());
    KeepSource(api, project, single_file, deployed->version);
    deployed->json["compile"] = CompileJson(*output);
    reply(Json(201, deployed->json));
  });
}

void HandleCompile(ApiContext& api, const SourceCompilerGetter& get_compiler, HandlerContext& ctx) {
  auto project = ProjectOf(ctx.request);
  if (!project) return ctx.reply(project.error());
  api.run_blocking([get_compiler, reply = ctx.reply, project = std::move(*project)] {
    compiler::SourceCompiler* compiler = get_compiler();
    if (compiler == nullptr) return reply(NoCompiler());
    auto output = compiler->Compile(project);
    if (!output) return reply(ServiceError(output.error()));
    if (!output->ok) return reply(CompileFailed(*output));
    reply(Json(200, CompileJson(*output)));
  });
}

void HandleGetSource(ApiContext& api, HandlerContext& ctx) {
  auto function = api.store.FindFunction(ctx.principal->user_id, ctx.params.at("name"));
  if (!function) return ctx.reply(StoreErrorResponse(function.error()));
  auto source = api.store.GetFunctionSource(function->id, function->latest_version);
  if (!source) {
    if (source.error().code != "not_found") return ctx.reply(StoreErrorResponse(source.error()));
    return ctx.reply(ErrorResponse(
        404, "not_found", "the latest version was not deployed from a single source file"));
  }
  ctx.reply(Json(200, boost::json::object{{"name", function->name},
                                          {"version", function->latest_version},
                                          {"filename", source->filename},
                                          {"text", source->text}}));
}

}  // namespace

void AddSourceRoutes(Router& router, ApiContext& api, SourceCompilerGetter compiler) {
  router.Add("POST", "/api/v1/functions/{name}/source", Access::kUser,
             [&api, compiler](HandlerContext& ctx) { HandleDeploySource(api, compiler, ctx); });
  router.Add("GET", "/api/v1/functions/{name}/source", Access::kUser,
             [&api](HandlerContext& ctx) { HandleGetSource(api, ctx); });
  router.Add("POST", "/api/v1/compile", Access::kUser,
             [&api, compiler](HandlerContext& ctx) { HandleCompile(api, compiler, ctx); });
}

}  // namespace milf::server
