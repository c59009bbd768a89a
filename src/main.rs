//! The `dxcontest` command line: serve (the default), migrate, problems check/import, openapi.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dxcontest::app::{self, Application};
use dxcontest::config::Config;
use dxcontest::service::problems::{import_dir, load_dir};
use dxcontest::store::Store;

#[derive(Parser)]
#[command(name = "dxcontest", version, about = "Runs national solution contests")]
struct Cli {
    /// A TOML file whose settings override config/default.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Validate or import problem statements.
    Problems {
        #[command(subcommand)]
        action: ProblemsAction,
    },
    /// Print the OpenAPI specification (JSON).
    Openapi,
}

#[derive(Subcommand)]
enum ProblemsAction {
    /// Validate every problem file in DIR without writing anything.
    Check { dir: PathBuf },
    /// Import DIR in one transaction: new codes are added, changed statements updated.
    Import {
        dir: PathBuf,
        /// Archive published problems whose code is not in DIR (they stay in the database).
        #[arg(long)]
        prune: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        println!("{}", dxcontest::api::spec_json());
        return Ok(());
    }
    if let Command::Problems {
        action: ProblemsAction::Check { dir },
    } = &command
    {
        let problems = load_dir(dir)?;
        println!(
            "{}: {} problem files are valid",
            dir.display(),
            problems.len()
        );
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    app::init_tracing(&config.log);
    match command {
        Command::Serve => {
            let app = Application::build(&config).await?;
            println!("dxcontest listening on http://{}", app.local_addr());
            app.run_until(app::shutdown_signal()).await?;
        }
        Command::Migrate => {
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            println!("migrations applied");
        }
        Command::Problems {
            action: ProblemsAction::Import { dir, prune },
        } => {
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            let c = import_dir(&store, None, &dir, prune).await?;
            println!(
                "{}: {} created, {} updated, {} unchanged, {} archived",
                dir.display(),
                c.created,
                c.updated,
                c.unchanged,
                c.archived
            );
        }
        Command::Openapi | Command::Problems { .. } => {}
    }
    Ok(())
}
