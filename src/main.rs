//! The `dxcontest` command line: serve (the default), migrate, problems check/import, openapi,
//! admin create.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    /// Manage organizer accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an organizer, or make an existing account one. The password of a new account is
    /// asked twice on a terminal, or read as one line from standard input.
    Create {
        /// The organizer's email address (it counts as verified).
        #[arg(long)]
        email: String,
        /// Full name for a new account.
        #[arg(long, default_value = "Ban tổ chức")]
        name: String,
    },
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
        Command::Admin {
            action: AdminAction::Create { email, name },
        } => admin_create(&config, &email, &name).await?,
        Command::Openapi | Command::Problems { .. } => {}
    }
    Ok(())
}

/// `admin create`: bootstraps an organizer through the same use case the service would run.
async fn admin_create(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    use dxcontest::domain::account::Email;
    use dxcontest::i18n::Lang;
    use dxcontest::service::{Ctx, accounts};

    let store = Store::connect(&config.database).await?;
    store.migrate().await?;
    let ctx = Ctx::new(
        store.clone(),
        Arc::new(config.clone()),
        Arc::new(tokio::sync::Notify::new()),
    )?;
    let parsed = Email::parse("email", email)
        .map_err(|e| anyhow::anyhow!("--email: {}", e.problem.message(false)))?;
    let exists = dxcontest::store::accounts::user_by_email(store.pool(), parsed.as_str())
        .await?
        .is_some();
    // An existing account keeps its password: none is asked.
    let password = if exists {
        String::new()
    } else {
        read_password()?
    };
    let result = accounts::bootstrap_organizer(&ctx, parsed.as_str(), name, &password).await;
    store.close().await;
    let (id, created) = result.map_err(|e| anyhow::anyhow!(e.message(Lang::En)))?;
    if created {
        println!("created organizer {} (id {id})", parsed.as_str());
    } else {
        println!(
            "{} already had an account: it is now an organizer (id {id})",
            parsed.as_str()
        );
    }
    Ok(())
}

/// The new account's password: asked twice without echo on a terminal, else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new organizer: ")?;
        let second = rpassword::prompt_password("Same password again: ")?;
        if first != second {
            anyhow::bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
