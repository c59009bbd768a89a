//! A small min-cost max-flow solver.
//!
//! Algorithm: primal–dual successive shortest paths. Each *phase* runs Dijkstra
//! on reduced costs `cost(u,v) + π(u) − π(v)` (which stay non-negative), folds
//! the distances into the potentials `π`, and then pushes a *blocking flow*
//! (Dinic: BFS levels + current-arc DFS) through the sub-network of residual
//! arcs whose reduced cost is zero. Every path found in a phase is a shortest
//! path, so the final flow is a maximum flow of minimum cost. Because the
//! assignment network has small integer costs, the number of phases is small
//! (tens), and each phase moves thousands of units at once.
//!
//! Storage is compact: adjacency in CSR form, `u32` node/arc indices, `i32`
//! capacities and costs, `i64` potentials and totals.
//!
//! Limits: costs must be non-negative (callers express bonuses as penalties on
//! the alternative path instead), capacities non-negative, and the network must
//! fit `u32` indices.
//!
//! Determinism: arcs are scanned in insertion order, so the same sequence of
//! `add_edge` calls always gives the same flow.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use thiserror::Error;

/// Errors when building or solving a flow network.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum McfError {
    /// An edge or terminal refers to a node that does not exist.
    #[error("node {node} is out of range (the network has {nodes} nodes)")]
    NodeOutOfRange {
        /// The offending node.
        node: usize,
        /// Number of nodes in the network.
        nodes: usize,
    },
    /// A capacity below zero.
    #[error("edge capacity {cap} is negative")]
    NegativeCapacity {
        /// The offending capacity.
        cap: i32,
    },
    /// A cost below zero (this solver needs non-negative costs).
    #[error("edge cost {cost} is negative; this solver needs non-negative costs")]
    NegativeCost {
        /// The offending cost.
        cost: i32,
    },
    /// More nodes or arcs than `u32` indices can address.
    #[error("the network is too large: {what}")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
    },
    /// Source and sink are the same node.
    #[error("source and sink must be different nodes")]
    SourceIsSink,
}

/// Handle of an edge added with [`FlowNetwork::add_edge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(u32);

impl EdgeId {
    /// Position of the edge in insertion order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A directed network under construction.
#[derive(Debug, Clone, Default)]
pub struct FlowNetwork {
    nodes: usize,
    from: Vec<u32>,
    to: Vec<u32>,
    cap: Vec<i32>,
    cost: Vec<i32>,
}

/// The result of [`FlowNetwork::solve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSolution {
    /// Total flow from source to sink (a maximum flow).
    pub flow: i64,
    /// Total cost of that flow (minimum among maximum flows).
    pub cost: i64,
    /// Number of Dijkstra phases run (a measure of work).
    pub phases: u32,
    edge_flow: Vec<i32>,
}

impl FlowSolution {
    /// Flow carried by one edge.
    pub fn edge_flow(&self, edge: EdgeId) -> i32 {
        self.edge_flow.get(edge.index()).copied().unwrap_or(0)
    }

    /// Flow carried by every edge, in insertion order.
    pub fn edge_flows(&self) -> &[i32] {
        &self.edge_flow
    }
}

const UNSET: u32 = u32::MAX;
const INF: i64 = i64::MAX / 4;

impl FlowNetwork {
    /// A network with `nodes` nodes and no edges.
    pub fn new(nodes: usize) -> Result<Self, McfError> {
        Self::with_capacity(nodes, 0)
    }

    /// Like [`FlowNetwork::new`], reserving room for `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Result<Self, McfError> {
        if u32::try_from(nodes).is_err() || nodes == u32::MAX as usize {
            return Err(McfError::TooLarge { what: "nodes" });
        }
        Ok(Self {
            nodes,
            from: Vec::with_capacity(edges),
            to: Vec::with_capacity(edges),
            cap: Vec::with_capacity(edges),
            cost: Vec::with_capacity(edges),
        })
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Number of edges added so far.
    pub fn edge_count(&self) -> usize {
        self.from.len()
    }

    fn node(&self, node: usize) -> Result<u32, McfError> {
        if node < self.nodes {
            u32::try_from(node).map_err(|_| McfError::TooLarge { what: "nodes" })
        } else {
            Err(McfError::NodeOutOfRange {
                node,
                nodes: self.nodes,
            })
        }
    }

    /// Adds an edge `from → to` with a capacity and a per-unit cost.
    pub fn add_edge(
        &mut self,
        from: usize,
        to: usize,
        cap: i32,
        cost: i32,
    ) -> Result<EdgeId, McfError> {
        let from = self.node(from)?;
        let to = self.node(to)?;
        if cap < 0 {
            return Err(McfError::NegativeCapacity { cap });
        }
        if cost < 0 {
            return Err(McfError::NegativeCost { cost });
        }
        // Two arcs per edge must fit u32 arc indices.
        let id = u32::try_from(self.from.len())
            .ok()
            .filter(|id| *id < u32::MAX / 2 - 1)
            .ok_or(McfError::TooLarge { what: "edges" })?;
        self.from.push(from);
        self.to.push(to);
        self.cap.push(cap);
        self.cost.push(cost);
        Ok(EdgeId(id))
    }

    /// Computes a minimum-cost maximum flow from `source` to `sink`.
    pub fn solve(self, source: usize, sink: usize) -> Result<FlowSolution, McfError> {
        let s = self.node(source)? as usize;
        let t = self.node(sink)? as usize;
        if s == t {
            return Err(McfError::SourceIsSink);
        }
        let edge_count = self.from.len();
        let mut g = Residual::build(self);
        let phases = g.run(s, t);
        let mut edge_flow = Vec::with_capacity(edge_count);
        let mut flow = 0i64;
        let mut cost = 0i64;
        for e in 0..edge_count {
            let a = g.edge_arc[e] as usize;
            let f = g.cap[g.rev[a] as usize];
            edge_flow.push(f);
            cost += i64::from(f) * i64::from(g.cost[a]);
            if g.to[g.rev[a] as usize] as usize == s {
                flow += i64::from(f);
            }
            if g.to[a] as usize == s {
                flow -= i64::from(f);
            }
        }
        Ok(FlowSolution {
            flow,
            cost,
            phases,
            edge_flow,
        })
    }
}

/// Residual network in CSR form. Arc `a` and `rev[a]` are the two directions
/// of one edge.
struct Residual {
    start: Vec<u32>,
    to: Vec<u32>,
    rev: Vec<u32>,
    cap: Vec<i32>,
    cost: Vec<i32>,
    edge_arc: Vec<u32>,
}

impl Residual {
    fn build(net: FlowNetwork) -> Self {
        let n = net.nodes;
        let m = net.from.len();
        let mut start = vec![0u32; n + 1];
        for i in 0..m {
            start[net.from[i] as usize + 1] += 1;
            start[net.to[i] as usize + 1] += 1;
        }
        for v in 0..n {
            start[v + 1] += start[v];
        }
        let mut next: Vec<u32> = start[..n].to_vec();
        let arcs = 2 * m;
        let mut to = vec![0u32; arcs];
        let mut rev = vec![0u32; arcs];
        let mut cap = vec![0i32; arcs];
        let mut cost = vec![0i32; arcs];
        let mut edge_arc = Vec::with_capacity(m);
        for i in 0..m {
            let (u, v) = (net.from[i] as usize, net.to[i] as usize);
            let fwd = next[u];
            next[u] += 1;
            let bwd = next[v];
            next[v] += 1;
            let (f, b) = (fwd as usize, bwd as usize);
            to[f] = v as u32;
            rev[f] = bwd;
            cap[f] = net.cap[i];
            cost[f] = net.cost[i];
            to[b] = u as u32;
            rev[b] = fwd;
            cap[b] = 0;
            cost[b] = -net.cost[i];
            edge_arc.push(fwd);
        }
        Self {
            start,
            to,
            rev,
            cap,
            cost,
            edge_arc,
        }
    }

    /// Runs phases until the sink is unreachable; returns the number of phases.
    fn run(&mut self, s: usize, t: usize) -> u32 {
        let n = self.start.len() - 1;
        let mut pot = vec![0i64; n];
        let mut dist = vec![INF; n];
        let mut done = vec![false; n];
        let mut heap: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
        let mut level = vec![UNSET; n];
        let mut iter = vec![0u32; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        let mut path: Vec<u32> = Vec::new();
        let mut phases = 0u32;
        loop {
            if !self.dijkstra(s, t, &pot, &mut dist, &mut done, &mut heap) {
                return phases;
            }
            phases += 1;
            let dt = dist[t];
            for v in 0..n {
                pot[v] += if done[v] { dist[v] } else { dt };
            }
            while self.bfs_levels(s, t, &pot, &mut level, &mut queue) {
                iter.copy_from_slice(&self.start[..n]);
                self.blocking_flow(s, t, &pot, &mut level, &mut iter, &mut path);
            }
        }
    }

    #[inline]
    fn reduced_cost(&self, a: usize, pu: i64, pot: &[i64]) -> i64 {
        i64::from(self.cost[a]) + pu - pot[self.to[a] as usize]
    }

    /// Dijkstra on reduced costs, stopping once the sink is settled. Returns
    /// whether the sink is reachable. `done[v]` marks settled nodes.
    fn dijkstra(
        &self,
        s: usize,
        t: usize,
        pot: &[i64],
        dist: &mut [i64],
        done: &mut [bool],
        heap: &mut BinaryHeap<Reverse<(i64, u32)>>,
    ) -> bool {
        dist.fill(INF);
        done.fill(false);
        heap.clear();
        dist[s] = 0;
        heap.push(Reverse((0, s as u32)));
        while let Some(Reverse((d, u))) = heap.pop() {
            let u = u as usize;
            if done[u] || d > dist[u] {
                continue;
            }
            done[u] = true;
            if u == t {
                return true;
            }
            let pu = pot[u];
            for a in self.start[u] as usize..self.start[u + 1] as usize {
                if self.cap[a] <= 0 {
                    continue;
                }
                let v = self.to[a] as usize;
                let nd = d + self.reduced_cost(a, pu, pot);
                debug_assert!(nd >= d, "negative reduced cost");
                if nd < dist[v] {
                    dist[v] = nd;
                    heap.push(Reverse((nd, v as u32)));
                }
            }
        }
        false
    }

    /// BFS levels over admissible arcs (residual, zero reduced cost).
    fn bfs_levels(
        &self,
        s: usize,
        t: usize,
        pot: &[i64],
        level: &mut [u32],
        queue: &mut Vec<u32>,
    ) -> bool {
        level.fill(UNSET);
        queue.clear();
        level[s] = 0;
        queue.push(s as u32);
        let mut head = 0;
        while head < queue.len() {
            let u = queue[head] as usize;
            head += 1;
            let lu = level[u];
            if level[t] != UNSET && lu >= level[t] {
                break;
            }
            let pu = pot[u];
            for a in self.start[u] as usize..self.start[u + 1] as usize {
                if self.cap[a] <= 0 {
                    continue;
                }
                let v = self.to[a] as usize;
                if level[v] == UNSET && self.reduced_cost(a, pu, pot) == 0 {
                    level[v] = lu + 1;
                    queue.push(v as u32);
                }
            }
        }
        level[t] != UNSET
    }

    /// Saturates every admissible shortest (in hops) path: Dinic's blocking
    /// flow with current-arc pointers, written iteratively because alternating
    /// paths can be long.
    fn blocking_flow(
        &mut self,
        s: usize,
        t: usize,
        pot: &[i64],
        level: &mut [u32],
        iter: &mut [u32],
        path: &mut Vec<u32>,
    ) {
        path.clear();
        let mut u = s;
        loop {
            if u == t {
                let mut bottleneck = i32::MAX;
                for &a in path.iter() {
                    bottleneck = bottleneck.min(self.cap[a as usize]);
                }
                let mut first_saturated = path.len();
                for (i, &a) in path.iter().enumerate() {
                    let a = a as usize;
                    self.cap[a] -= bottleneck;
                    self.cap[self.rev[a] as usize] += bottleneck;
                    if self.cap[a] == 0 && first_saturated == path.len() {
                        first_saturated = i;
                    }
                }
                path.truncate(first_saturated);
                u = match path.last() {
                    Some(&a) => self.to[a as usize] as usize,
                    None => s,
                };
                continue;
            }
            let end = self.start[u + 1];
            let pu = pot[u];
            let mut advanced = false;
            while iter[u] < end {
                let a = iter[u] as usize;
                let v = self.to[a] as usize;
                if self.cap[a] > 0
                    && level[v] != UNSET
                    && level[v] == level[u] + 1
                    && self.reduced_cost(a, pu, pot) == 0
                {
                    path.push(a as u32);
                    u = v;
                    advanced = true;
                    break;
                }
                iter[u] += 1;
            }
            if !advanced {
                // Dead end: nobody needs to enter `u` again in this round.
                level[u] = UNSET;
                match path.pop() {
                    None => return,
                    Some(a) => {
                        u = self.to[self.rev[a as usize] as usize] as usize;
                        iter[u] += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: one augmentation per Bellman–Ford shortest path. Slow but
    /// obviously correct; returns (flow, cost).
    fn reference_mcmf(
        n: usize,
        edges: &[(usize, usize, i32, i32)],
        s: usize,
        t: usize,
    ) -> (i64, i64) {
        // arc list: (to, cap, cost, rev)
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut arcs: Vec<(usize, i64, i64, usize)> = Vec::new();
        for &(u, v, c, w) in edges {
            let a = arcs.len();
            arcs.push((v, i64::from(c), i64::from(w), a + 1));
            arcs.push((u, 0, -i64::from(w), a));
            adj[u].push(a);
            adj[v].push(a + 1);
        }
        let (mut flow, mut cost) = (0i64, 0i64);
        loop {
            let mut dist = vec![i64::MAX; n];
            let mut via = vec![usize::MAX; n];
            dist[s] = 0;
            for _ in 0..n {
                let mut changed = false;
                for u in 0..n {
                    if dist[u] == i64::MAX {
                        continue;
                    }
                    for &a in &adj[u] {
                        let (v, c, w, _) = arcs[a];
                        if c > 0 && dist[u] + w < dist[v] {
                            dist[v] = dist[u] + w;
                            via[v] = a;
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            if dist[t] == i64::MAX {
                return (flow, cost);
            }
            let mut b = i64::MAX;
            let mut v = t;
            while v != s {
                let a = via[v];
                b = b.min(arcs[a].1);
                v = arcs[arcs[a].3].0;
            }
            let mut v = t;
            while v != s {
                let a = via[v];
                arcs[a].1 -= b;
                let r = arcs[a].3;
                arcs[r].1 += b;
                v = arcs[r].0;
            }
            flow += b;
            cost += b * dist[t];
        }
    }

    fn solve(n: usize, edges: &[(usize, usize, i32, i32)], s: usize, t: usize) -> FlowSolution {
        let mut g = FlowNetwork::new(n).unwrap();
        for &(u, v, c, w) in edges {
            g.add_edge(u, v, c, w).unwrap();
        }
        g.solve(s, t).unwrap()
    }

    #[test]
    fn simple_choice_of_cheaper_path() {
        // 0 -> 1 -> 3 costs 1+1, 0 -> 2 -> 3 costs 5+5; capacity 1 each.
        let edges = [(0, 1, 1, 1), (1, 3, 1, 1), (0, 2, 1, 5), (2, 3, 1, 5)];
        let sol = solve(4, &edges, 0, 3);
        assert_eq!(sol.flow, 2);
        assert_eq!(sol.cost, 12);
        let edges = [
            (0, 1, 2, 1),
            (1, 3, 2, 1),
            (0, 2, 1, 5),
            (2, 3, 1, 5),
            (4, 3, 1, 0),
        ];
        let sol = solve(5, &edges, 0, 3);
        assert_eq!((sol.flow, sol.cost), (3, 14));
        assert_eq!(sol.edge_flows(), &[2, 2, 1, 1, 0]);
    }

    #[test]
    fn needs_to_reroute_through_reverse_arc() {
        // Classic case where the greedy first path must be undone.
        //   s=0, a=1, b=2, t=3
        let edges = [
            (0, 1, 1, 0),
            (0, 2, 1, 0),
            (1, 3, 1, 0),
            (1, 2, 1, 0),
            (2, 3, 1, 10),
        ];
        let sol = solve(4, &edges, 0, 3);
        assert_eq!(sol.flow, 2);
        assert_eq!(sol.cost, 10);
    }

    #[test]
    fn rejects_bad_input() {
        let mut g = FlowNetwork::new(2).unwrap();
        assert_eq!(
            g.add_edge(0, 2, 1, 1),
            Err(McfError::NodeOutOfRange { node: 2, nodes: 2 })
        );
        assert_eq!(
            g.add_edge(0, 1, -1, 1),
            Err(McfError::NegativeCapacity { cap: -1 })
        );
        assert_eq!(
            g.add_edge(0, 1, 1, -1),
            Err(McfError::NegativeCost { cost: -1 })
        );
        assert_eq!(g.clone().solve(0, 0), Err(McfError::SourceIsSink));
        assert!(g.solve(0, 5).is_err());
    }

    #[test]
    fn unreachable_sink_gives_zero_flow() {
        let sol = solve(3, &[(0, 1, 5, 1)], 0, 2);
        assert_eq!((sol.flow, sol.cost), (0, 0));
    }

    #[test]
    fn parallel_edges_and_many_phases() {
        // A ladder: unit k costs k; 5 units must use costs 0..=4.
        let mut edges = Vec::new();
        for c in 0..10 {
            edges.push((0, 1, 1, c));
        }
        edges.push((1, 2, 5, 0));
        let sol = solve(3, &edges, 0, 2);
        assert_eq!(sol.flow, 5);
        assert_eq!(sol.cost, 10);
        assert_eq!(sol.phases, 5);
    }

    fn arb_network() -> impl Strategy<Value = (usize, Vec<(usize, usize, i32, i32)>)> {
        (3usize..8).prop_flat_map(|n| {
            let edge = (0..n, 0..n, 0i32..4, 0i32..6);
            (Just(n), prop::collection::vec(edge, 0..24))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn matches_bellman_ford_reference((n, edges) in arb_network()) {
            let edges: Vec<_> = edges.into_iter().filter(|(u, v, _, _)| u != v).collect();
            let (s, t) = (0, n - 1);
            let sol = solve(n, &edges, s, t);
            let (flow, cost) = reference_mcmf(n, &edges, s, t);
            prop_assert_eq!(sol.flow, flow);
            prop_assert_eq!(sol.cost, cost);
            // Capacity and conservation.
            let mut balance = vec![0i64; n];
            for (i, &(u, v, c, _)) in edges.iter().enumerate() {
                let f = sol.edge_flows()[i];
                prop_assert!(f >= 0 && f <= c);
                balance[u] -= i64::from(f);
                balance[v] += i64::from(f);
            }
            for (v, b) in balance.iter().enumerate() {
                if v != s && v != t {
                    prop_assert_eq!(*b, 0);
                }
            }
            prop_assert_eq!(balance[t], flow);
        }

        #[test]
        fn same_input_same_output((n, edges) in arb_network()) {
            let edges: Vec<_> = edges.into_iter().filter(|(u, v, _, _)| u != v).collect();
            let a = solve(n, &edges, 0, n - 1);
            let b = solve(n, &edges, 0, n - 1);
            prop_assert_eq!(a, b);
        }
    }
}
