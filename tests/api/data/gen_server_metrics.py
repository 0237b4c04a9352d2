#!/usr/bin/env python3
# Writes the recorded SGLang, TGI and llama.cpp /metrics expositions in this folder (each in its
# server's own text formatting; see each file's header for the source of names and format) and
# prints the percentiles the tests expect, computed here independently of the C++ code.
# SPDX-License-Identifier: GPL-3.0-or-later
from decimal import Decimal
import math
import os
D=os.path.dirname(os.path.abspath(__file__))+'/'
def q(buckets,qq):
    # buckets: list of (le, cum) ascending, last inf
    total=buckets[-1][1]
    if total==0: return None
    rank=qq*total
    prev_le=0.0; prev_c=0.0
    for i,(le,c) in enumerate(buckets):
        if c>=rank:
            if math.isinf(le): return buckets[-2][0]
            lo = prev_le if i>0 else (0.0 if le>0 else le)
            if i==0 and le<=0: return le
            return lo+(le-lo)*(rank-prev_c)/(c-prev_c)
        prev_le, prev_c = le, c
def delta(a,b): return [(le,c-d) for (le,c),(_,d) in zip(a,b)]
def cum(counts): 
    out=[];t=0
    for c in counts: t+=c; out.append(t)
    return out

M='model_name="meta-llama/Llama-3.1-8B-Instruct"'
# ---------- SGLang ----------
ttft_le=[0.001,0.005,0.01,0.02,0.04,0.06,0.08,0.1,0.25,0.5,0.75,1.0,2.5,5.0,7.5,10.0,15.0,20.0,25.0,30.0,float('inf')]
itl_le=[0.002,0.004,0.006,0.008,0.010,0.015,0.020,0.025,0.030,0.035,0.040,0.060,0.080,0.100,0.200,0.300,0.400,0.500,0.750,1.0,2.0,float('inf')]
e2e_le=[0.1,0.2,0.4,0.6,0.8,1.0,2.0,4.0,6.0,8.0,10.0,20.0,40.0,60.0,80.0,100.0,200.0,400.0,float('inf')]
def go(d):
    # prometheus_client's floatToGoString
    d=float(d)
    if d==float('inf'): return '+Inf'
    r=repr(d); dot=r.find('.')
    if d>0 and dot>6:
        mantissa=f'{r[0]}.{r[1:dot]}{r[dot+1:]}'.rstrip('0.')
        return f'{mantissa}e+0{dot-1}'
    return r
def fmtle(x):
    return go(x)
def sgl(scrape):
    # per-bucket (non-cumulative) observations
    ttft=[0,0,0,0,1,2,3,0,10,20,4,0,0,0,0,0,0,0,0,0,0]
    itl=[0,0,0,0,5,40,300,400,200,40,10,5,0,0,0,0,0,0,0,0,0,0]
    e2e=[0,0,0,1,5,10,20,4,0,0,0,0,0,0,0,0,0,0,0]
    gauges=dict(running=162.0,queue=26.0,usage=0.28)
    prompt,gen,retr=8.128902e+06,7.557572e+06,4.0
    if scrape==2:
        ttft[8]+=0; ttft[9]+=0; ttft[11]+=20   # 20 new in (0.75,1.0]
        itl[7]+=100                            # 100 new in (0.020,0.025]
        e2e[7]+=10                             # 10 new in (2,4]
        gauges=dict(running=170.0,queue=30.0,usage=0.41)
        prompt+=20000; gen+=6000; retr+=6
    L=[]
    L.append('# Recorded SGLang /metrics exposition, in the format of SGLang\'s docs/references/production_metrics.md')
    L.append('# (prometheus_client text 0.0.4: `le` before model_name, floats as "162.0", "8.128902e+06").')
    L.append('# Names from python/sglang/srt/metrics/collector.py (sglang:inter_token_latency_seconds and the')
    L.append('# sglang:num_retracted_requests_total counter are the collector\'s current names). Counts chosen for the test.')
    def g(name,help,typ,val):
        L.append(f'# HELP {name} {help}'); L.append(f'# TYPE {name} {typ}'); L.append(f'{name}{{{M}}} {go(val)}')
    g('sglang:prompt_tokens_total','Number of prefill tokens processed.','counter',prompt)
    g('sglang:generation_tokens_total','Number of generation tokens processed.','counter',gen)
    g('sglang:token_usage','The token usage','gauge',gauges['usage'])
    g('sglang:cache_hit_rate','The cache hit rate','gauge',0.007507552643049313)
    def h(name,help,les,counts):
        c=cum(counts); L.append(f'# HELP {name} {help}'); L.append(f'# TYPE {name} histogram')
        s=sum(((les[i] if not math.isinf(les[i]) else les[i-1]*1.0)*counts[i] for i in range(len(les))))*0.7
        L.append(f'{name}_sum{{{M}}} {go(s)}')
        for le,v in zip(les,c): L.append(f'{name}_bucket{{le="{fmtle(le)}",{M}}} {go(v)}')
        L.append(f'{name}_count{{{M}}} {go(c[-1])}')
        return list(zip(les,c))
    H={}
    H['ttft']=h('sglang:time_to_first_token_seconds','Histogram of time to first token in seconds.',ttft_le,ttft)
    H['e2e']=h('sglang:e2e_request_latency_seconds','Histogram of End-to-end request latency in seconds',e2e_le,e2e)
    H['itl']=h('sglang:inter_token_latency_seconds','Histogram of inter-token latency in seconds.',itl_le,itl)
    g('sglang:num_running_reqs','The number of running requests','gauge',gauges['running'])
    g('sglang:num_used_tokens','The number of used tokens','gauge',123859.0)
    g('sglang:gen_throughput','The generate throughput (token/s)','gauge',86.50814177726902)
    g('sglang:num_queue_reqs','The number of requests in the waiting queue','gauge',gauges['queue'])
    g('sglang:num_retracted_reqs','The number of retracted requests.','gauge',1.0)
    g('sglang:num_retracted_requests_total','Total number of retracted requests.','counter',retr)
    open(D+f'sglang_metrics_{scrape}.prom','w').write('\n'.join(L)+'\n')
    return H
s1=sgl(1); s2=sgl(2)
print('SGLANG scrape1')
for k in ('ttft','itl','e2e'): print(k,[None if q(s1[k],x) is None else round(q(s1[k],x)*1000,6) for x in (0.5,0.95,0.99)])
print('SGLANG scrape2 window')
for k in ('ttft','itl','e2e'): print(k,[round(q(delta(s2[k],s1[k]),x)*1000,6) for x in (0.5,0.95,0.99)])

# ---------- TGI (metrics-exporter-prometheus, router/src/server.rs buckets) ----------
def rust(x):
    if isinstance(x,int): return str(x)
    if math.isinf(x): return '+Inf'
    s=format(Decimal(repr(float(x))),'f')
    if '.' not in s: s=s  # Rust prints 3.0 as "3"
    if s.endswith('.0'): s=s[:-2]
    return s
dur=[];v=0.00001
for _ in range(35):
    v*=1.5; dur.append(v)
dur.append(float('inf'))
gen_le=[(2048/100.0)*(x+1) for x in range(100)]+[float('inf')]
inp_le=[(1024/100.0)*(x+1) for x in range(100)]+[float('inf')]
def idx(les,val):
    for i,le in enumerate(les):
        if val<=le: return i
def tgi(scrape):
    n=150 if scrape==1 else 170
    obs={'e2e':[],'itl':[],'queue':[],'gen':[],'inp':[]}
    # first 150 requests
    for i in range(150):
        obs['e2e'].append([1.2,1.9,2.6][i%3]); obs['itl'].append([0.02,0.03,0.045][i%3])
        obs['queue'].append(0.004); obs['gen'].append(200); obs['inp'].append(100)
    if scrape==2:
        for i in range(20):
            obs['e2e'].append(5.0); obs['itl'].append(0.1); obs['queue'].append(0.5); obs['gen'].append(200); obs['inp'].append(128)
    L=['# Recorded TGI (text-generation-inference) /metrics exposition, as its router writes it with the',
       '# metrics-exporter-prometheus crate (router/src/server.rs: duration buckets 1e-5 * 1.5^k, token',
       '# buckets max_total_tokens/100 * k with --max-total-tokens 2048, --max-input-tokens 1024). Names',
       '# and types from docs/source/reference/metrics.md. Counts chosen for the test.']
    def scalar(name,help,typ,val):
        L.append(f'# HELP {name} {help}'); L.append(f'# TYPE {name} {typ}'); L.append(f'{name} {rust(val)}')
    scalar('tgi_request_count','Total number of requests','counter',n+2)
    scalar('tgi_request_success','Number of successful requests','counter',n)
    scalar('tgi_batch_current_max_tokens','Maximum tokens for the current batch','gauge',4096.0 if scrape==1 else 6144.0)
    scalar('tgi_batch_current_size','Current batch size','gauge',12.0 if scrape==1 else 16.0)
    scalar('tgi_queue_size','Current queue size','gauge',3.0 if scrape==1 else 7.0)
    H={}
    def hist(key,name,help,les,vals):
        counts=[0]*len(les)
        for x in vals: counts[idx(les,x)]+=1
        c=cum(counts)
        L.append(f'# HELP {name} {help}'); L.append(f'# TYPE {name} histogram')
        for le,k in zip(les,c): L.append(f'{name}_bucket{{le="{rust(le)}"}} {k}')
        L.append(f'{name}_sum {rust(float(sum(vals)))}'); L.append(f'{name}_count {len(vals)}')
        H[key]=list(zip(les,c))
    hist('e2e','tgi_request_duration','Total time spent processing the request (e2e latency)',dur,obs['e2e'])
    hist('gen','tgi_request_generated_tokens','Generated tokens per request',gen_le,obs['gen'])
    hist('inp','tgi_request_input_length','Input token length per request',inp_le,obs['inp'])
    hist('itl','tgi_request_mean_time_per_token_duration','Mean time per token per request (inter-token latency)',dur,obs['itl'])
    hist('queue','tgi_request_queue_duration','Time spent in the queue per request',dur,obs['queue'])
    open(D+f'tgi_metrics_{scrape}.prom','w').write('\n'.join(L)+'\n')
    return H,obs
t1,o1=tgi(1); t2,o2=tgi(2)
print('TGI scrape1'); 
for k in ('itl','e2e'): print(k,[round(q(t1[k],x)*1000,6) for x in (0.5,0.95,0.99)])
print('TGI window2')
for k in ('itl','e2e'): print(k,[round(q(delta(t2[k],t1[k]),x)*1000,6) for x in (0.5,0.95,0.99)])
print('gen sum', sum(o1['gen']), sum(o2['gen']), 'inp', sum(o1['inp']), sum(o2['inp']))

# ---------- llama.cpp (tools/server /metrics handler; std::stringstream << double) ----------
def cpp(x):
    # default ostream formatting of a double: %g with precision 6
    return '%g' % x
def llama(scrape):
    vals=dict(prompt=96641, prompt_s=226.0, pred=23210 if scrape==1 else 23810, pred_s=507.0 if scrape==1 else 519.0,
              dec=23381 if scrape==1 else 23981, ntmax=42094, busy=1.0 if scrape==1 else 1.5,
              pps=424.925, tps=45.4769 if scrape==1 else 46.0, proc=1 if scrape==1 else 2, defer=0 if scrape==1 else 1)
    if scrape==2: vals['prompt']=96641+1024; vals['prompt_s']=228.0
    L=['# Recorded llama.cpp server (llama-server --metrics) /metrics exposition, as its /metrics handler',
       '# writes it (tools/server: "# HELP llamacpp:NAME", "# TYPE llamacpp:NAME TYPE", value through',
       '# std::ostream, 6 significant digits). A current build: no llamacpp:kv_cache_usage_ratio (older',
       '# builds had it, and llamacpp:kv_cache_tokens), no histograms. Counts chosen for the test.']
    def m(name,help,typ,val):
        L.append(f'# HELP llamacpp:{name} {help}'); L.append(f'# TYPE llamacpp:{name} {typ}'); L.append(f'llamacpp:{name} {cpp(val)}')
    m('prompt_tokens_total','Number of prompt tokens processed.','counter',vals['prompt'])
    m('prompt_seconds_total','Prompt process time','counter',vals['prompt_s'])
    m('tokens_predicted_total','Number of generation tokens processed.','counter',vals['pred'])
    m('tokens_predicted_seconds_total','Predict process time','counter',vals['pred_s'])
    m('n_decode_total','Total number of llama_decode() calls','counter',vals['dec'])
    m('n_tokens_max','Largest observed n_tokens.','counter',vals['ntmax'])
    m('n_busy_slots_per_decode','Average number of busy slots per llama_decode() call','counter',vals['busy'])
    m('prompt_tokens_seconds','Average prompt throughput in tokens/s.','gauge',vals['pps'])
    m('predicted_tokens_seconds','Average generation throughput in tokens/s.','gauge',vals['tps'])
    m('requests_processing','Number of requests processing.','gauge',vals['proc'])
    m('requests_deferred','Number of requests deferred.','gauge',vals['defer'])
    open(D+f'llamacpp_metrics_{scrape}.prom','w').write('\n'.join(L)+'\n')
llama(1); llama(2)
