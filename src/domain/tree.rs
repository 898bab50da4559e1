//! Secrets grouped by their `/`-separated name segments.
//!
//! A folder is every proper prefix of a name that ends before a `/`
//! (`prod/payments/db` lives in folders `prod` and `prod/payments`). Names
//! without `/` sit at the root. A name can be a secret and a folder at once
//! (`prod/db` and `prod/db/replica`).

use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    /// Full path without a trailing slash; "" for the root.
    pub path: String,
    /// Last segment; "" for the root.
    pub segment: String,
    /// Secrets anywhere below this folder.
    pub secrets: usize,
    /// Secrets directly in this folder (not in a sub-folder).
    pub direct: usize,
    /// Indexes of sub-folders, sorted by segment.
    children: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct NameTree {
    folders: Vec<Folder>,
    by_path: HashMap<String, usize>,
}

/// The tree of no secrets: the root alone. (A derived default would have no
/// root, and `root()`/`trail()` would panic on an inventory not yet synced.)
impl Default for NameTree {
    fn default() -> Self {
        NameTree::build(std::iter::empty())
    }
}

impl NameTree {
    pub fn build<'a>(names: impl IntoIterator<Item = &'a str>) -> NameTree {
        let mut tree = NameTree {
            folders: vec![Folder {
                path: String::new(),
                segment: String::new(),
                secrets: 0,
                direct: 0,
                children: Vec::new(),
            }],
            by_path: HashMap::from([(String::new(), 0)]),
        };
        for name in names {
            tree.folders[0].secrets += 1;
            let mut parent = 0;
            let mut start = 0;
            for (i, _) in name.match_indices('/') {
                let path = &name[..i];
                let idx = match tree.by_path.get(path) {
                    Some(&idx) => idx,
                    None => {
                        let idx = tree.folders.len();
                        tree.folders.push(Folder {
                            path: path.to_string(),
                            segment: name[start..i].to_string(),
                            secrets: 0,
                            direct: 0,
                            children: Vec::new(),
                        });
                        tree.by_path.insert(path.to_string(), idx);
                        tree.folders[parent].children.push(idx);
                        idx
                    }
                };
                tree.folders[idx].secrets += 1;
                parent = idx;
                start = i + 1;
            }
            tree.folders[parent].direct += 1;
        }
        let segments: Vec<String> = tree.folders.iter().map(|f| f.segment.clone()).collect();
        for f in &mut tree.folders {
            f.children.sort_by(|&a, &b| segments[a].cmp(&segments[b]));
        }
        tree
    }

    /// Number of folders, the root included.
    pub fn len(&self) -> usize {
        self.folders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.folders[0].secrets == 0
    }

    pub fn root(&self) -> &Folder {
        &self.folders[0]
    }

    /// A folder by path; a trailing `/` is ignored.
    pub fn folder(&self, path: &str) -> Option<&Folder> {
        let path = path.strip_suffix('/').unwrap_or(path);
        self.by_path.get(path).map(|&i| &self.folders[i])
    }

    pub fn children<'a>(&'a self, folder: &'a Folder) -> impl Iterator<Item = &'a Folder> + 'a {
        folder.children.iter().map(|&i| &self.folders[i])
    }

    /// The folders from the root down to `path` (root first), as far as they exist.
    pub fn trail(&self, path: &str) -> Vec<&Folder> {
        let mut out = vec![self.root()];
        let path = path.trim_matches('/');
        if path.is_empty() {
            return out;
        }
        for (i, _) in path
            .match_indices('/')
            .chain(std::iter::once((path.len(), "")))
        {
            match self.folder(&path[..i]) {
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }
}

/// True if `name` is inside folder `path` (at any depth). The root holds all.
pub fn in_folder(name: &str, path: &str) -> bool {
    let path = path.trim_matches('/');
    path.is_empty()
        || (name.len() > path.len()
            && name.starts_with(path)
            && name.as_bytes()[path.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> NameTree {
        NameTree::build([
            "prod/payments/db",
            "prod/payments/db/replica",
            "prod/payments/api-key",
            "prod/search/key",
            "staging/search/key",
            "jenkins-token",
            "LegacyDbPassword",
        ])
    }

    #[test]
    fn counts_and_children() {
        let t = tree();
        assert_eq!(t.root().secrets, 7);
        assert_eq!(t.root().direct, 2, "flat names sit at the root");
        let segs: Vec<&str> = t.children(t.root()).map(|f| f.segment.as_str()).collect();
        assert_eq!(segs, ["prod", "staging"]);
        let prod = t.folder("prod").unwrap();
        assert_eq!((prod.secrets, prod.direct), (4, 0));
        let pay = t.folder("prod/payments/").unwrap();
        assert_eq!((pay.secrets, pay.direct), (3, 2));
        let db = t.folder("prod/payments/db").unwrap();
        assert_eq!(
            (db.secrets, db.direct),
            (1, 1),
            "a secret that is also a folder"
        );
        assert!(t.folder("prod/pay").is_none());
        // root, prod, prod/payments, prod/payments/db, prod/search, staging, staging/search
        assert_eq!(t.len(), 7);
    }

    #[test]
    fn trail_stops_at_missing_folders() {
        let t = tree();
        let paths: Vec<&str> = t
            .trail("prod/payments/nothing/here")
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(paths, ["", "prod", "prod/payments"]);
        assert_eq!(t.trail("").len(), 1);
    }

    #[test]
    fn the_default_tree_is_an_empty_root() {
        let t = NameTree::default();
        assert!(t.is_empty());
        assert_eq!(t.len(), 1);
        assert_eq!(t.root().secrets, 0);
        assert_eq!(t.trail("prod/payments").len(), 1);
        assert_eq!(t.children(t.root()).count(), 0);
    }

    #[test]
    fn folder_membership() {
        assert!(in_folder("prod/payments/db", "prod"));
        assert!(in_folder("prod/payments/db", "prod/payments/"));
        assert!(
            !in_folder("prod/payments", "prod/payments"),
            "a folder does not contain its namesake secret"
        );
        assert!(!in_folder("production/x", "prod"));
        assert!(in_folder("anything", ""));
    }
}
