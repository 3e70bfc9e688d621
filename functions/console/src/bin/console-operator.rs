//! Makes a `console_operators` entry: `console-operator NAME`, then type the password on
//! standard input (one line). Prints `NAME:pbkdf2-sha256$…`.

use std::io::BufRead;

fn main() -> std::process::ExitCode {
    let Some(name) = std::env::args().nth(1) else {
        eprintln!("usage: console-operator NAME   (the password is read from standard input)");
        return std::process::ExitCode::from(2);
    };
    if !console::settings::valid_name(&name) {
        eprintln!("a name is 1 to 64 characters of A-Z a-z 0-9 . _ -");
        return std::process::ExitCode::from(2);
    }
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        eprintln!("could not read the password");
        return std::process::ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 12 {
        eprintln!("use a password of at least 12 characters");
        return std::process::ExitCode::from(2);
    }
    let hash = console::password::PasswordHash::generate(password);
    println!("{name}:{hash}");
    std::process::ExitCode::SUCCESS
}
