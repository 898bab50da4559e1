//! What the list shows, all of it in the URL: the search, the folder, the
//! order, the page, the columns and the density.

use crate::domain::links::query_value;

/// A column of the list. The name is always shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    State,
    Health,
    Owner,
    Rotated,
    Next,
    Where,
    Kms,
    Desc,
    Tags,
}

impl Column {
    /// In the order the table shows them; all of them by default.
    pub const ALL: [Column; 10] = [
        Column::Name,
        Column::State,
        Column::Health,
        Column::Owner,
        Column::Rotated,
        Column::Next,
        Column::Where,
        Column::Kms,
        Column::Desc,
        Column::Tags,
    ];

    /// As written in `cols=`.
    pub fn key(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::State => "state",
            Column::Health => "health",
            Column::Owner => "owner",
            Column::Rotated => "rotated",
            Column::Next => "next",
            Column::Where => "where",
            Column::Kms => "kms",
            Column::Desc => "desc",
            Column::Tags => "tags",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::State => "State",
            Column::Health => "Health",
            Column::Owner => "Owner",
            Column::Rotated => "Last rotated",
            Column::Next => "Next rotation",
            Column::Where => "Account · region",
            Column::Kms => "KMS key",
            Column::Desc => "Description",
            Column::Tags => "Tags",
        }
    }
}

/// The columns a `cols` parameter names (each value a comma-separated
/// list, as links write it, or one key per value, as the chooser's
/// checkboxes send it), in table order, the name always included. Unknown
/// keys are ignored; nothing known at all is the default (every column).
pub fn parse_cols(values: &[String]) -> Vec<Column> {
    let keys: Vec<&str> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let chosen: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|c| keys.contains(&c.key()))
        .collect();
    if chosen.is_empty() {
        return Column::ALL.to_vec();
    }
    Column::ALL
        .into_iter()
        .filter(|c| *c == Column::Name || chosen.contains(c))
        .collect()
}

/// The `cols` value for `cols`: "" for the default.
pub fn cols_param(cols: &[Column]) -> String {
    if cols == Column::ALL {
        return String::new();
    }
    cols.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")
}

/// What the list shows; all of it lives in the URL, so a link shows exactly
/// this view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewState {
    pub q: String,
    pub path: String,
    /// `name`, `-last_rotated`, …; "" is name order.
    pub sort: String,
    pub page: usize,
    /// The `cols` value ([`cols_param`]): "" for every column.
    pub cols: String,
    /// `compact` or `comfortable` when the URL says; "" leaves it to the
    /// remembered choice.
    pub density: String,
}

impl ViewState {
    /// The query string for this view, defaults left out.
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", query_value(&self.q)));
        }
        if !self.path.is_empty() {
            parts.push(format!("path={}", query_value(&self.path)));
        }
        if !self.sort.is_empty() && self.sort != "name" {
            parts.push(format!("sort={}", query_value(&self.sort)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if !self.cols.is_empty() {
            parts.push(format!("cols={}", query_value(&self.cols)));
        }
        if !self.density.is_empty() {
            parts.push(format!("density={}", query_value(&self.density)));
        }
        if parts.is_empty() {
            "?".to_string()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    pub fn with_path(&self, path: &str) -> ViewState {
        ViewState {
            path: path.to_string(),
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_sort(&self, sort: String) -> ViewState {
        ViewState {
            sort,
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_q(&self, q: String) -> ViewState {
        ViewState {
            q,
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_page(&self, page: usize) -> ViewState {
        ViewState {
            page,
            ..self.clone()
        }
    }

    /// The same view at another density (the page kept).
    pub fn with_density(&self, density: &str) -> ViewState {
        ViewState {
            density: density.to_string(),
            ..self.clone()
        }
    }

    /// The export link for this view's whole result (every page).
    pub fn export_href(&self, format: &str) -> String {
        let q = ViewState {
            page: 1,
            ..self.clone()
        }
        .href();
        let q = q.trim_start_matches('?');
        if q.is_empty() {
            format!("/export/secrets.{format}")
        } else {
            format!("/export/secrets.{format}?{q}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(q: &str, path: &str, sort: &str, page: usize) -> ViewState {
        ViewState {
            q: q.into(),
            path: path.into(),
            sort: sort.into(),
            page,
            ..ViewState::default()
        }
    }

    #[test]
    fn hrefs_keep_the_view() {
        assert_eq!(v("", "", "", 1).href(), "?");
        assert_eq!(v("", "", "name", 3).href(), "?page=3");
        assert_eq!(v("prod db&x", "", "", 2).href(), "?q=prod+db%26x&page=2");
        assert_eq!(
            v("a", "prod/pay", "-created", 4).href(),
            "?q=a&path=prod%2Fpay&sort=-created&page=4"
        );
        // Changing the folder, the search or the order starts again at page 1.
        let s = v("a", "prod", "", 5);
        assert_eq!(s.with_path("dev").href(), "?q=a&path=dev");
        assert_eq!(
            s.with_sort("-name".into()).href(),
            "?q=a&path=prod&sort=-name"
        );
        assert_eq!(s.with_q(String::new()).href(), "?path=prod");
        assert_eq!(s.export_href("csv"), "/export/secrets.csv?q=a&path=prod");
        assert_eq!(v("", "", "", 2).export_href("json"), "/export/secrets.json");
    }

    #[test]
    fn hrefs_keep_columns_and_density() {
        let s = ViewState {
            cols: "name,owner,kms".into(),
            density: "compact".into(),
            ..v("rotation:off", "prod", "", 3)
        };
        let kept = "cols=name%2Cowner%2Ckms&density=compact";
        assert_eq!(
            s.href(),
            format!("?q=rotation%3Aoff&path=prod&page=3&{kept}")
        );
        assert_eq!(
            s.with_path("dev").href(),
            format!("?q=rotation%3Aoff&path=dev&{kept}")
        );
        assert_eq!(s.with_q(String::new()).href(), format!("?path=prod&{kept}"));
        assert_eq!(
            s.with_sort("-next_rotation".into()).href(),
            format!("?q=rotation%3Aoff&path=prod&sort=-next_rotation&{kept}")
        );
        assert_eq!(
            s.with_page(4).href(),
            format!("?q=rotation%3Aoff&path=prod&page=4&{kept}")
        );
        assert_eq!(
            s.export_href("csv"),
            format!("/export/secrets.csv?q=rotation%3Aoff&path=prod&{kept}")
        );
        assert_eq!(
            s.with_density("comfortable").href(),
            "?q=rotation%3Aoff&path=prod&page=3&cols=name%2Cowner%2Ckms&density=comfortable"
        );
    }

    #[test]
    fn columns_parse_from_links_and_checkboxes() {
        let all = Column::ALL.to_vec();
        assert_eq!(parse_cols(&[]), all, "absent: every column");
        assert_eq!(parse_cols(&["nonsense".into()]), all);
        let some = parse_cols(&["kms,owner".into()]);
        assert_eq!(
            some,
            [Column::Name, Column::Owner, Column::Kms],
            "the name always, table order"
        );
        // The chooser's checkboxes send one value each (and always name).
        let boxes: Vec<String> = ["name", "tags", "state"].map(String::from).to_vec();
        assert_eq!(
            parse_cols(&boxes),
            [Column::Name, Column::State, Column::Tags]
        );
        assert_eq!(cols_param(&parse_cols(&boxes)), "name,state,tags");
        assert_eq!(cols_param(&parse_cols(&["name".into()])), "name");
        assert_eq!(cols_param(&all), "", "the default is left out of links");
        let every: Vec<String> = Column::ALL.iter().map(|c| c.key().to_string()).collect();
        assert_eq!(cols_param(&parse_cols(&every)), "");
    }
}
