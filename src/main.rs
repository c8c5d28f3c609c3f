use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    qifu::os::tune_allocator();
    match qifu::cli::run(qifu::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qifu: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
