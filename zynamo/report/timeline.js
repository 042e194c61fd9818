// The timeline page's drawing: see zynamo/report/timeline.py (which embeds this file).
(function(){
const D=JSON.parse(document.getElementById('data').textContent);
const COLORS=['#6cc070','#f0a030','#e05050'];
const LANE=18, TOP=16;
const axis=document.getElementById('axis'), cv=document.getElementById('lanes');
const scroll=document.getElementById('scroll'), tip=document.getElementById('tip');
const nemLane=D.lanes.indexOf('nemesis');
// One row per kind of fault (a partition and a kill overlap), one strip per node, by name.
const faultKinds=[...new Set(D.faults.map(f=>f[2].split(' ')[0]))];
const faultRows=faultKinds.length, nodeRows=D.nodes.length;
const nodeOrder=D.nodes.map((n,i)=>i).sort((a,b)=>D.nodes[a].localeCompare(D.nodes[b],undefined,{numeric:true}));
const AXIS_H=TOP+(faultRows+nodeRows)*14+6;
let t0=0, t1=Math.max(D.end_ms,1)*1.01, visible=[], lanesShown=[], laneRow={};
const byLane=D.lanes.map(()=>[]);
D.ops.forEach((o,i)=>byLane[o[2]].push(i));
function filters(){
  const k=document.getElementById('f-key').value.trim(), n=document.getElementById('f-node').value.trim();
  const p=document.getElementById('f-process').value.trim(), bad=document.getElementById('f-bad').checked;
  const ks=k?new Set(k.split(/[ ,]+/)):null, ns=n?new Set(n.split(/[ ,]+/)):null, ps=p?new Set(p.split(/[ ,]+/)):null;
  visible=D.lanes.map((_,l)=>byLane[l].filter(i=>{const o=D.ops[i];
    if(ks&&!(o[5]>=0&&ks.has(D.keys[o[5]])))return false;
    if(ns&&!(o[6]>=0&&ns.has(D.nodes[o[6]])))return false;
    if(ps&&!ps.has(D.lanes[o[2]]))return false;
    if(bad&&o[3]===0)return false; return true;}));
  lanesShown=[]; laneRow={};
  visible.forEach((ops,l)=>{if(ops.length){laneRow[l]=lanesShown.length;lanesShown.push(l);}});
  const count=visible.reduce((a,v)=>a+v.length,0);
  document.getElementById('shown').textContent=count+' of '+D.ops.length+' operations shown';
  draw();
}
function fmt(ms){return ms>=10000?(ms/1000).toFixed(1)+' s':ms>=1000?(ms/1000).toFixed(2)+' s':ms.toFixed(0)+' ms';}
function size(c,h){const r=window.devicePixelRatio||1;const w=c.clientWidth||c.parentNode.clientWidth;
  c.width=w*r;c.height=h*r;c.style.height=h+'px';const g=c.getContext('2d');g.setTransform(r,0,0,r,0,0);return [g,w];}
const LEFT=70;
function X(ms,w){return LEFT+(ms-t0)/(t1-t0)*(w-LEFT-8);}
function T(x,w){return t0+(x-LEFT)/(w-LEFT-8)*(t1-t0);}
function first(list,ms){let lo=0,hi=list.length;while(lo<hi){const m=(lo+hi)>>1;if(D.ops[list[m]][0]<ms)lo=m+1;else hi=m;}return lo;}
let maxLen=0;D.ops.forEach(o=>{maxLen=Math.max(maxLen,o[1]-o[0]);});
function draw(){
  const [a,w]=size(axis,AXIS_H);
  a.fillStyle='#fff';a.fillRect(0,0,w,AXIS_H);a.font='11px system-ui';a.fillStyle='#555';
  const step=Math.pow(10,Math.floor(Math.log10((t1-t0)/6)));let tick=step;
  if((t1-t0)/tick>12)tick*=5;if((t1-t0)/tick>12)tick*=2;
  for(let t=Math.ceil(t0/tick)*tick;t<=t1;t+=tick){const x=X(t,w);a.fillRect(x,TOP-4,1,4);a.fillText(fmt(t),x+2,TOP-5);}
  let y=TOP;
  faultKinds.forEach(kind=>{a.fillStyle='#555';a.fillText(kind,4,y+10);
    D.faults.forEach(f=>{if(f[2].split(' ')[0]!==kind)return;
      const x1=Math.max(X(f[0],w),LEFT),x2=Math.min(X(f[1],w),w);if(x2<LEFT||x1>w)return;
      a.fillStyle=f[3];a.globalAlpha=.6;a.fillRect(x1,y+1,Math.max(x2-x1,2),12);a.globalAlpha=1;
      a.fillStyle='#222';a.save();a.beginPath();a.rect(x1,y,x2-x1,14);a.clip();a.fillText(f[2],x1+3,y+11);a.restore();});
    y+=14;});
  nodeOrder.forEach(ni=>{const n=D.nodes[ni];a.fillStyle='#555';a.fillText(n,4,y+10);a.fillStyle='#e8f5e9';a.fillRect(LEFT,y+2,w-LEFT-8,10);
    D.down.forEach(d=>{if(d[0]!==ni)return;const x1=Math.max(X(d[1],w),LEFT),x2=Math.min(X(d[2],w),w);
      a.fillStyle=d[3]==='killed'?'#fb6a4a':'#74c476';a.fillRect(x1,y+2,Math.max(x2-x1,2),10);});y+=14;});
  const h=Math.max(lanesShown.length*LANE+4,40);
  const [g]=size(cv,h);
  g.fillStyle='#fff';g.fillRect(0,0,w,h);
  D.faults.forEach(f=>{const x1=Math.max(X(f[0],w),LEFT),x2=Math.min(X(f[1],w),w);if(x2<LEFT||x1>w)return;
    g.fillStyle=f[3];g.globalAlpha=.12;g.fillRect(x1,0,x2-x1,h);g.globalAlpha=1;});
  if(D.final_ms!==null&&D.final_ms<t1){const x=Math.max(X(D.final_ms,w),LEFT);g.fillStyle='rgba(0,0,0,.07)';g.fillRect(x,0,w-x,h);
  }
  g.font='11px system-ui';
  lanesShown.forEach((l,row)=>{const yy=row*LANE+2;
    g.fillStyle=row%2?'#fafafa':'#fff';g.globalAlpha=.6;g.fillRect(0,yy,w,LANE);g.globalAlpha=1;
    g.fillStyle='#555';g.fillText(D.lanes[l]==='nemesis'?'nemesis':'p '+D.lanes[l],4,yy+13);
    const list=visible[l];let i=first(list,t0-maxLen);
    for(;i<list.length;i++){const o=D.ops[list[i]];if(o[0]>t1)break;if(o[1]<t0)continue;
      const x1=Math.max(X(o[0],w),LEFT),x2=Math.min(X(o[1],w),w),bw=Math.max(x2-x1,1.5);
      g.fillStyle=l===nemLane?'#b0b0b0':COLORS[o[3]];g.fillRect(x1,yy+2,bw,LANE-4);
      if(bw>30){let label=(o[5]>=0?D.keys[o[5]]+' ':'')+(o[6]>=0?D.nodes[o[6]]+' ':'')+D.fs[o[4]]+(o[7]?' '+o[7]:'');
        if(o[3]!==0&&o[8])label+=' ✕ '+o[8];
        g.save();g.beginPath();g.rect(x1,yy,bw,LANE);g.clip();g.fillStyle='#111';g.fillText(label,x1+2,yy+13);g.restore();}}
  });
  if(D.final_ms!==null&&D.final_ms<t1){const x=Math.max(X(D.final_ms,w),LEFT);
    const label='final phase: reads after the heal';g.font='bold 11px system-ui';const lw=g.measureText(label).width;
    const lx=x+4+lw>w?x-lw-8:x+4;g.fillStyle='rgba(255,255,255,.85)';g.fillRect(lx-2,1,lw+4,14);
    g.fillStyle='#333';g.fillText(label,lx,12);}
}
function hit(ev){const r=cv.getBoundingClientRect(),w=cv.clientWidth;const row=Math.floor((ev.clientY-r.top-2)/LANE);
  const l=lanesShown[row];if(l===undefined)return null;const t=T(ev.clientX-r.left,w),slack=(t1-t0)/(w-LEFT)*3;
  const list=visible[l];let best=null;for(let i=first(list,t-maxLen-slack);i<list.length;i++){const o=D.ops[list[i]];
    if(o[0]>t+slack)break;if(o[0]-slack<=t&&t<=o[1]+slack)best=o;}return best;}
cv.addEventListener('mousemove',ev=>{if(drag){return;}const o=hit(ev);if(!o){tip.hidden=true;return;}
  const key=o[5]>=0?D.keys[o[5]]:null;
  tip.textContent=(D.lanes[o[2]]==='nemesis'?'nemesis':'process '+D.lanes[o[2]])+'  #'+o[10]+'\n'+
    D.fs[o[4]]+(key?' '+key:'')+(o[6]>=0?' via '+D.nodes[o[6]]:'')+' → '+['ok','info','fail'][o[3]]+(o[9]?' (final phase)':'')+
    '\n'+fmt(o[0])+' → '+fmt(o[1])+' ('+(o[1]-o[0]).toFixed(1)+' ms)'+(o[7]?'\nvalue: '+o[7]:'')+(o[8]?'\nerror: '+o[8]:'')+
    (key&&D.key_pages[key]?'\nclick: the page of '+key:'');
  tip.hidden=false;tip.style.left=Math.min(ev.clientX+14,window.innerWidth-540)+'px';tip.style.top=(ev.clientY+14)+'px';});
cv.addEventListener('mouseleave',()=>{tip.hidden=true;});
cv.addEventListener('click',ev=>{if(moved)return;const o=hit(ev);if(!o||o[5]<0)return;const page=D.key_pages[D.keys[o[5]]];
  if(page)window.location.href=page+'#op-'+o[10];});
function zoom(f,at){const c=at===undefined?(t0+t1)/2:at;const span=Math.max((t1-t0)*f,1);
  t0=c-(c-t0)*f;t1=t0+span;draw();}
cv.addEventListener('wheel',ev=>{
  if(ev.ctrlKey||ev.altKey||ev.metaKey){ev.preventDefault();zoom(ev.deltaY>0?1.25:0.8,T(ev.offsetX,cv.clientWidth));}
  else if(ev.shiftKey||Math.abs(ev.deltaX)>Math.abs(ev.deltaY)){ev.preventDefault();
    const d=(ev.deltaX||ev.deltaY)/cv.clientWidth*(t1-t0);t0+=d;t1+=d;draw();}
},{passive:false});
let drag=null,moved=false;
cv.addEventListener('mousedown',ev=>{drag={x:ev.clientX,t0,t1,shift:ev.shiftKey};moved=false;});
window.addEventListener('mousemove',ev=>{if(!drag)return;const dx=ev.clientX-drag.x;if(Math.abs(dx)>3)moved=true;
  if(drag.shift)return;const dt=dx/(cv.clientWidth-LEFT)*(drag.t1-drag.t0);t0=drag.t0-dt;t1=drag.t1-dt;draw();});
window.addEventListener('mouseup',ev=>{if(drag&&drag.shift&&moved){const r=cv.getBoundingClientRect(),w=cv.clientWidth;
  const a=T(drag.x-r.left,w),b=T(ev.clientX-r.left,w);t0=Math.min(a,b);t1=Math.max(a,b,t0+1);draw();}drag=null;});
document.getElementById('zoom-in').onclick=()=>zoom(0.5);
document.getElementById('zoom-out').onclick=()=>zoom(2);
document.getElementById('zoom-all').onclick=()=>{t0=0;t1=Math.max(D.end_ms,1)*1.01;draw();};
['f-key','f-node','f-process','f-bad'].forEach(id=>document.getElementById(id).addEventListener('input',filters));
window.addEventListener('resize',draw);
const q=new URLSearchParams(location.search);
if(q.get('key'))document.getElementById('f-key').value=q.get('key');
if(q.get('node'))document.getElementById('f-node').value=q.get('node');
window.zynamoTimeline={draw,filters,data:D};
filters();
})();
