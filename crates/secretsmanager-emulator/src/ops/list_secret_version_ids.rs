//! ListSecretVersionIds.

use crate::protocol::{ApiError, ListVersionsReq, Obj};
use crate::seed::VersionData;
use crate::store::checks::{decode_token, encode_token, max_results, secret_id};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Serialize, Deserialize)]
pub(crate) struct VersionToken {
    v: String,
    o: usize,
}

impl Store {
    pub(crate) fn list_versions(&self, req: ListVersionsReq) -> Result<Value, ApiError> {
        let max = max_results(req.max_results)?;
        let id = secret_id(req.secret_id)?;
        let seq = self.lookup(&id)?;
        let s = self.get(seq);
        let d = &s.data;
        let include_deprecated = req.include_deprecated.unwrap_or(false);
        let mut versions: Vec<(usize, &VersionData)> = d
            .versions
            .iter()
            .enumerate()
            .filter(|(_, v)| include_deprecated || !v.stages.is_empty())
            .collect();
        // Newest first.
        versions.sort_by_key(|(i, v)| std::cmp::Reverse((v.created, *i)));
        let offset = match req.next_token.as_deref() {
            None => 0,
            Some(t) => {
                let t: VersionToken = decode_token(t)?;
                if t.v != d.arn {
                    return Err(ApiError::client(
                        "InvalidNextTokenException",
                        "The NextToken value is invalid.",
                    ));
                }
                t.o
            }
        };
        let kms = d
            .kms_key_id
            .clone()
            .unwrap_or_else(|| "DefaultEncryptionKey".to_string());
        let page: Vec<Value> = versions
            .iter()
            .skip(offset)
            .take(max)
            .map(|(_, v)| {
                let mut o = Obj::new();
                o.set("VersionId", v.id.clone());
                if !v.stages.is_empty() {
                    o.set("VersionStages", json!(v.stages));
                }
                o.ts("CreatedDate", Some(v.created));
                o.ts(
                    "LastAccessedDate",
                    v.last_accessed.map(crate::protocol::day),
                );
                o.set("KmsKeyIds", json!([kms]));
                o.done()
            })
            .collect();
        let mut out = Obj::new();
        out.set("Versions", Value::Array(page));
        if offset + max < versions.len() {
            out.set(
                "NextToken",
                encode_token(&VersionToken {
                    v: d.arn.clone(),
                    o: offset + max,
                }),
            );
        }
        out.set("ARN", d.arn.clone()).set("Name", d.name.clone());
        Ok(out.done())
    }
}
