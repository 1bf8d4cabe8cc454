//! Shell completions (bash, zsh, fish) and man pages, generated from the clap definition so
//! they can never disagree with the commands. `stackdrop completions SHELL` and
//! `stackdrop man --dir DIR`; the package build writes both into the .deb.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "stackdrop", &mut out);
    out
}

/// Every command path with subcommands of its own left out: `["image", "create"]`, …
#[cfg(test)]
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&super::command(), &[], &mut out);
    out
}

/// Man pages: `stackdrop.1` and one per command (`stackdrop-image-create.1`, …).
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn render(cmd: clap::Command, name: String, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.clone())).render(&mut page)?;
        out.push((format!("{name}.1"), page));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            render(sub.clone(), format!("{name}-{}", sub.get_name()), out)?;
        }
        Ok(())
    }
    let mut cmd = super::command();
    cmd.build();
    let mut out = Vec::new();
    render(cmd, "stackdrop".into(), &mut out)?;
    Ok(out)
}

pub fn write_man_pages(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let pages = man_pages()?;
    for (name, page) in &pages {
        std::fs::File::create(dir.join(name))?.write_all(page)?;
    }
    Ok(pages.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_every_completion_and_has_a_man_page() {
        let paths = command_paths();
        for want in [vec!["image", "create"], vec!["profile", "import"], vec!["completions"], vec!["man"]] {
            assert!(paths.iter().any(|p| p == &want), "{want:?} in {paths:?}");
        }
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = String::from_utf8(completions(shell)).unwrap();
            for path in &paths {
                let leaf = path.last().unwrap();
                assert!(script.contains(leaf.as_str()), "{shell}: no '{}'", path.join(" "));
            }
            // A flag of a nested command, not only the names.
            assert!(script.contains("disk-format") && script.contains("secret-stdin"), "{shell}");
        }
        let pages = man_pages().unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for path in &paths {
            let want = format!("stackdrop-{}.1", path.join("-"));
            assert!(names.contains(&want.as_str()), "no {want} in {names:?}");
        }
        let main = String::from_utf8(pages[0].1.clone()).unwrap();
        assert!(main.starts_with(".ie") || main.contains(".TH stackdrop"), "{}", &main[..200.min(main.len())]);
        assert!(main.contains("image") && main.contains("profile"));
        let create = &pages.iter().find(|(n, _)| n == "stackdrop-image-create.1").unwrap().1;
        assert!(String::from_utf8_lossy(create).contains("container\\-format"));
    }
}
