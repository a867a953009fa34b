//! Reading the tables of a workflow file: `[workflow]`, `[defaults]`, each `[[task]]` and
//! `[[agent]]`, and the checks that span them (agent ids unique, every required capability
//! offered).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use baton_orchestrator::{FailureMode, Priority};

use super::values::{Value, Walker, entry};
use super::{
    AGENT_KEYS, AgentDef, DEFAULTS_KEYS, Located, TASK_KEYS, TaskDef, WORKFLOW_KEYS, WorkflowFile,
};
use crate::limits;

/// What `[defaults]` sets for every task.
#[derive(Debug, Default)]
pub(super) struct Defaults {
    timeout: Option<Located<Duration>>,
    priority: Option<Priority>,
    env: BTreeMap<String, String>,
    cwd: Option<Located<String>>,
}

impl Walker {
    pub(super) fn workflow(&mut self, value: &Value<'_>, file: &mut WorkflowFile) {
        let Some(table) = self.table(value, "workflow") else {
            return;
        };
        self.check_keys(table, WORKFLOW_KEYS, "workflow");
        match entry(table, "name") {
            Some((_, v)) => {
                if let Some(name) = self.label(v, "workflow.name", limits::MAX_NAME_CHARS) {
                    file.name = name.value;
                }
            }
            None => self.push(
                file.header.clone(),
                "workflow",
                "missing field `name` (the workflow's name)",
            ),
        }
        if let Some((_, v)) = entry(table, "max_parallel")
            && let Some(n) = self.positive(v, "workflow.max_parallel", limits::MAX_WORKERS as u64)
        {
            file.max_parallel = Some(Located {
                value: n as usize,
                span: v.span(),
                path: "workflow.max_parallel".into(),
            });
        }
        if let Some((_, v)) = entry(table, "fail_mode")
            && let Some(mode) = self.string(v, "workflow.fail_mode")
        {
            match mode.as_str() {
                "fail-fast" => file.fail_mode = FailureMode::FailFast,
                "continue" => file.fail_mode = FailureMode::Continue,
                other => self.push(
                    v.span(),
                    "workflow.fail_mode",
                    format!("unknown fail mode {other:?}: expected \"fail-fast\" or \"continue\""),
                ),
            }
        }
        if let Some((_, v)) = entry(table, "saga")
            && let Some(saga) = self.boolean(v, "workflow.saga")
        {
            file.saga = saga;
        }
        if let Some((_, v)) = entry(table, "timeout") {
            file.timeout = self.timeout(v, "workflow.timeout");
        }
    }

    pub(super) fn defaults(&mut self, value: &Value<'_>, file: &mut WorkflowFile) -> Defaults {
        let mut defaults = Defaults::default();
        let Some(table) = self.table(value, "defaults") else {
            return defaults;
        };
        self.check_keys(table, DEFAULTS_KEYS, "defaults");
        if let Some((_, v)) = entry(table, "retry") {
            file.retry = self.policy(v, "defaults.retry");
        }
        if let Some((_, v)) = entry(table, "timeout") {
            defaults.timeout = self.timeout(v, "defaults.timeout");
        }
        if let Some((_, v)) = entry(table, "priority") {
            defaults.priority = self.priority(v, "defaults.priority");
        }
        if let Some((_, v)) = entry(table, "env") {
            defaults.env = self.env(v, "defaults.env");
        }
        if let Some((_, v)) = entry(table, "cwd") {
            defaults.cwd = self.located_string(v, "defaults.cwd");
        }
        defaults
    }

    pub(super) fn task(
        &mut self,
        value: &Value<'_>,
        index: usize,
        defaults: &Defaults,
    ) -> Option<TaskDef> {
        let path = format!("task[{index}]");
        let table = self.table(value, &path)?;
        self.check_keys(table, TASK_KEYS, &path);
        let field = |name: &str| format!("{path}.{name}");
        let mut task = TaskDef {
            index,
            header: value.span(),
            id: None,
            run: String::new(),
            needs: Vec::new(),
            priority: defaults.priority.unwrap_or_default(),
            retry: None,
            timeout: defaults.timeout.clone(),
            compensate: None,
            env: defaults.env.clone(),
            cwd: defaults.cwd.clone(),
            requires: Vec::new(),
        };
        match entry(table, "id") {
            Some((_, v)) => task.id = self.task_id(v, &field("id")),
            None => self.push(value.span(), &path, "missing field `id` (the task's name)"),
        }
        match entry(table, "run") {
            Some((_, v)) => {
                if let Some(run) = self.non_empty_string(v, &field("run")) {
                    task.run = run;
                }
            }
            None => self.push(
                value.span(),
                &path,
                "missing field `run` (the shell command to run)",
            ),
        }
        if let Some((_, v)) = entry(table, "needs") {
            task.needs = self.strings(v, &field("needs"), "task ids");
        }
        if let Some((_, v)) = entry(table, "priority")
            && let Some(p) = self.priority(v, &field("priority"))
        {
            task.priority = p;
        }
        if let Some((_, v)) = entry(table, "retry") {
            task.retry = self.policy(v, &field("retry"));
        }
        if let Some((_, v)) = entry(table, "timeout") {
            task.timeout = self.timeout(v, &field("timeout"));
        }
        if let Some((_, v)) = entry(table, "compensate") {
            task.compensate = self.non_empty_string(v, &field("compensate"));
        }
        if let Some((_, v)) = entry(table, "env") {
            task.env.extend(self.env(v, &field("env")));
        }
        if let Some((_, v)) = entry(table, "cwd")
            && let Some(cwd) = self.located_string(v, &field("cwd"))
        {
            task.cwd = Some(cwd);
        }
        if let Some((_, v)) = entry(table, "requires") {
            task.requires = self.strings(v, &field("requires"), "capabilities");
        }
        Some(task)
    }

    pub(super) fn agent(&mut self, value: &Value<'_>, index: usize) -> Option<AgentDef> {
        let path = format!("agent[{index}]");
        let table = self.table(value, &path)?;
        self.check_keys(table, AGENT_KEYS, &path);
        let field = |name: &str| format!("{path}.{name}");
        let mut agent = AgentDef {
            header: value.span(),
            id: None,
            capabilities: Vec::new(),
            workers: 2,
            weight: 1,
        };
        match entry(table, "id") {
            Some((_, v)) => agent.id = self.label(v, &field("id"), limits::MAX_LABEL_CHARS),
            None => self.push(value.span(), &path, "missing field `id` (the agent's name)"),
        }
        if let Some((_, v)) = entry(table, "capabilities") {
            agent.capabilities = self.strings(v, &field("capabilities"), "capabilities");
        }
        if let Some((_, v)) = entry(table, "workers")
            && let Some(n) = self.positive(v, &field("workers"), limits::MAX_WORKERS as u64)
        {
            agent.workers = n as usize;
        }
        if let Some((_, v)) = entry(table, "weight")
            && let Some(n) = self.positive(v, &field("weight"), u64::from(limits::MAX_WEIGHT))
        {
            agent.weight = n as u32;
        }
        Some(agent)
    }

    /// Agent ids are unique, and every capability a task requires is some agent's.
    pub(super) fn check_agents(&mut self, file: &WorkflowFile) {
        let mut seen: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        for agent in &file.agents {
            let Some(id) = &agent.id else { continue };
            if seen.insert(&id.value, id.span.clone()).is_some() {
                let message = format!("duplicate agent id {:?}", id.value);
                self.push(id.span.clone(), &id.path, message);
            }
        }
        let offered: HashSet<&str> = file
            .agents
            .iter()
            .flat_map(|a| a.capabilities.iter().map(|c| c.value.as_str()))
            .collect();
        // Whether some one agent offers every capability of a set, per distinct set: most tasks
        // share a few sets, so this stays linear in tasks.
        let agents: Vec<HashSet<&str>> = file
            .agents
            .iter()
            .map(|a| a.capabilities.iter().map(|c| c.value.as_str()).collect())
            .collect();
        let mut one_agent_has: HashMap<Vec<&str>, bool> = HashMap::new();
        for task in &file.tasks {
            let mut missing = false;
            for (i, capability) in task.requires.iter().enumerate() {
                let path = format!("task[{}].requires[{i}]", task.index);
                if file.agents.is_empty() {
                    let message = format!(
                        "requires {:?}, but no [[agent]] is declared (tasks with requirements run on agents)",
                        capability.value
                    );
                    self.push(capability.span.clone(), path, message);
                    missing = true;
                } else if !offered.contains(capability.value.as_str()) {
                    let message = format!("no [[agent]] has the capability {:?}", capability.value);
                    self.push(capability.span.clone(), path, message);
                    missing = true;
                }
            }
            let Some(first) = task.requires.first().filter(|_| !missing) else {
                continue;
            };
            let mut set: Vec<&str> = task.requires.iter().map(|c| c.value.as_str()).collect();
            set.sort_unstable();
            set.dedup();
            let covered = *one_agent_has
                .entry(set.clone())
                .or_insert_with(|| agents.iter().any(|a| set.iter().all(|c| a.contains(c))));
            if !covered {
                let message = format!(
                    "no single [[agent]] has all of {}: each is some agent's, but a task runs on \
                     one agent",
                    set.iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.push(
                    first.span.clone(),
                    format!("task[{}].requires", task.index),
                    message,
                );
            }
        }
    }
}
