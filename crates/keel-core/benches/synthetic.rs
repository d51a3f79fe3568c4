//! Deterministic synthetic reports for benchmarks: LCOV (classic records, so `lcov --summary`
//! reads them too), Cobertura shaped like coverage.py's, and SARIF shaped like CodeQL's.
//! Shared by `benches/parsers.rs` and `examples/gen-reports.rs`.

use std::fmt::Write;

/// A small linear congruential generator: same seed, same report.
pub struct Lcg(u64);

impl Lcg {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    /// The next pseudo-random number (31 bits).
    pub fn draw(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// The path of synthetic file `i`, as a CI runner would write it.
pub fn path(i: usize) -> String {
    format!("/home/runner/work/app/app/src/module{}/file{i}.rs", i % 97)
}

/// An LCOV tracefile: `files` × `lines` DA records, a branch pair every 5th line, a function
/// every 50th; about 75% of lines hit.
pub fn lcov(files: usize, lines: usize) -> Vec<u8> {
    let mut rng = Lcg::new(7);
    let mut s = String::with_capacity(files * lines * 14);
    for i in 0..files {
        let _ = writeln!(s, "TN:\nSF:{}", path(i));
        let (mut lf, mut lh, mut brf, mut brh) = (0, 0, 0, 0);
        for f in (1..=lines).step_by(50) {
            let _ = writeln!(s, "FN:{f},fn_{i}_{f}");
        }
        for f in (1..=lines).step_by(50) {
            let _ = writeln!(s, "FNDA:{},fn_{i}_{f}", rng.draw() % 4);
        }
        for l in 1..=lines {
            let hits = if rng.draw().is_multiple_of(4) {
                0
            } else {
                rng.draw() % 30 + 1
            };
            let _ = writeln!(s, "DA:{l},{hits}");
            lf += 1;
            lh += usize::from(hits > 0);
            if l.is_multiple_of(5) {
                for b in 0..2 {
                    let taken = if hits == 0 {
                        "-".to_owned()
                    } else {
                        (rng.draw() % 3).to_string()
                    };
                    let _ = writeln!(s, "BRDA:{l},0,{b},{taken}");
                    brf += 1;
                    brh += usize::from(taken != "-" && taken != "0");
                }
            }
        }
        let _ = writeln!(s, "BRF:{brf}\nBRH:{brh}\nLF:{lf}\nLH:{lh}\nend_of_record");
    }
    s.into_bytes()
}

/// A Cobertura report like coverage.py writes: one class per file, `files` × `lines` lines.
pub fn cobertura(files: usize, lines: usize) -> Vec<u8> {
    let mut rng = Lcg::new(11);
    let mut s = String::with_capacity(files * lines * 50);
    s.push_str("<?xml version=\"1.0\" ?>\n<coverage version=\"7.17.4\" timestamp=\"1\" lines-valid=\"0\" lines-covered=\"0\" line-rate=\"0\" branches-covered=\"0\" branches-valid=\"0\" branch-rate=\"0\" complexity=\"0\">\n");
    s.push_str("\t<sources>\n\t\t<source>/home/runner/work/app/app</source>\n\t</sources>\n\t<packages>\n\t\t<package name=\"src\" line-rate=\"0\" branch-rate=\"0\" complexity=\"0\">\n\t\t\t<classes>\n");
    for i in 0..files {
        let _ = writeln!(
            s,
            "\t\t\t\t<class name=\"file{i}.py\" filename=\"src/module{}/file{i}.py\" complexity=\"0\" line-rate=\"0.75\" branch-rate=\"0.5\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>",
            i % 97
        );
        for l in 1..=lines {
            let hits = u64::from(!rng.draw().is_multiple_of(4));
            if l.is_multiple_of(5) {
                let taken = rng.draw() % 3;
                let pct = taken * 50;
                let _ = writeln!(
                    s,
                    "\t\t\t\t\t\t<line number=\"{l}\" hits=\"{hits}\" branch=\"true\" condition-coverage=\"{pct}% ({taken}/2)\" missing-branches=\"{}\"/>",
                    l + 1
                );
            } else {
                let _ = writeln!(s, "\t\t\t\t\t\t<line number=\"{l}\" hits=\"{hits}\"/>");
            }
        }
        s.push_str("\t\t\t\t\t</lines>\n\t\t\t\t</class>\n");
    }
    s.push_str("\t\t\t</classes>\n\t\t</package>\n\t</packages>\n</coverage>\n");
    s.into_bytes()
}

/// A SARIF log with `results` results over 200 rules, each with a location and fingerprints.
pub fn sarif(results: usize) -> Vec<u8> {
    let mut rng = Lcg::new(13);
    let mut s = String::with_capacity(results * 520);
    s.push_str("{\"version\":\"2.1.0\",\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"CodeQL\",\"rules\":[");
    for r in 0..200 {
        if r > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"id\":\"rule/{r}\",\"defaultConfiguration\":{{\"level\":\"warning\"}},\"properties\":{{\"security-severity\":\"{}.{}\"}}}}",
            r % 10,
            r % 7
        );
    }
    s.push_str("]}},\"results\":[");
    for i in 0..results {
        if i > 0 {
            s.push(',');
        }
        let rule = rng.draw() % 200;
        let line = rng.draw() % 2000 + 1;
        let _ = write!(
            s,
            "{{\"ruleId\":\"rule/{rule}\",\"ruleIndex\":{rule},\"level\":\"error\",\"message\":{{\"text\":\"Possible problem number {i} in a function that handles untrusted input from the request body\"}},\
             \"locations\":[{{\"physicalLocation\":{{\"artifactLocation\":{{\"uri\":\"src/module{}/file{}.rs\",\"uriBaseId\":\"%SRCROOT%\"}},\"region\":{{\"startLine\":{line},\"startColumn\":5,\"endLine\":{line},\"endColumn\":40}}}}}}],\
             \"partialFingerprints\":{{\"primaryLocationLineHash\":\"{:016x}:1\",\"primaryLocationStartColumnFingerprint\":\"4\"}}}}",
            i % 97,
            i % 5000,
            rng.draw() ^ (i as u64)
        );
    }
    s.push_str("]}]}\n");
    s.into_bytes()
}

/// A `git diff` adding `lines` lines to each of the first `files` synthetic files.
pub fn diff(files: usize, lines: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..files {
        let p = path(i);
        let rel = p.trim_start_matches("/home/runner/work/app/app/");
        let _ = writeln!(
            s,
            "diff --git a/{rel} b/{rel}\n--- a/{rel}\n+++ b/{rel}\n@@ -1,0 +1,{lines} @@"
        );
        for l in 0..lines {
            let _ = writeln!(s, "+line {l}");
        }
    }
    s.into_bytes()
}
