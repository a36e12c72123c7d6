/** HTML-escape a value for text and attribute context. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The "customer phone": write to the business as a customer and see what the business sent back.
 * Everything shown from data is set with textContent (never innerHTML); the one server value is escaped.
 */
export function customerPage(defaultNumber: string): string {
  const num = escapeHtml(defaultNumber);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard WhatsApp SANDBOX — customer phone</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#eee}
.banner{background:#b00020;color:#fff;padding:6px 12px;font-weight:bold}
.phone{max-width:420px;margin:16px auto;background:#efeae2;border-radius:16px;box-shadow:0 2px 8px #0003;display:flex;flex-direction:column;height:80vh}
.head{background:#075e54;color:#fff;padding:10px;border-radius:16px 16px 0 0}
.head input{width:9em}
#chat{flex:1;overflow:auto;padding:10px;display:flex;flex-direction:column;gap:6px}
.msg{max-width:75%;padding:6px 10px;border-radius:8px;white-space:pre-wrap;word-break:break-word}
.in{background:#fff;align-self:flex-start}.out{background:#d9fdd3;align-self:flex-end}
.meta{font-size:11px;color:#666}
form{display:flex;gap:6px;padding:8px}form input{flex:1}
</style></head>
<body>
<div class="banner">SANDBOX — simulated WhatsApp Cloud API. No message leaves this machine.</div>
<div class="phone">
  <div class="head">
    <label>Customer wa_id <input id="waId" value="15550001234" pattern="[0-9]{5,20}"></label>
    <label>name <input id="name" value="Sandbox Customer"></label><br>
    <label>business number <input id="pn" value="${num}"></label>
  </div>
  <div id="chat" aria-live="polite"></div>
  <form id="f"><input id="text" autocomplete="off" placeholder="Type a message" maxlength="4096" required><button>Send</button></form>
</div>
<script>
(function(){
  var chat=document.getElementById('chat'), seen={}, mine=[];
  function $(id){return document.getElementById(id)}
  function bubble(cls,text,meta){var d=document.createElement('div');d.className='msg '+cls;d.textContent=text;
    var m=document.createElement('div');m.className='meta';m.textContent=meta;d.appendChild(m);chat.appendChild(d);chat.scrollTop=chat.scrollHeight}
  function render(body){
    if(!body||typeof body!=='object')return '';
    var t=body.type||'text', o=body[t]||{};
    if(t==='text')return String(o.body||'');
    if(t==='template')return '[template '+String(o.name||'')+']';
    if(t==='reaction')return '[reaction '+String(o.emoji||'')+']';
    if(t==='interactive')return String((o.body&&o.body.text)||'[interactive]');
    return '['+t+'] '+String(o.caption||o.link||o.id||'');
  }
  async function poll(){
    try{
      var r=await fetch('/sandbox/sent?to='+encodeURIComponent($('waId').value)+'&phoneNumberId='+encodeURIComponent($('pn').value));
      var j=await r.json();
      (j.messages||[]).forEach(function(m){ if(seen[m.waMessageId])return; seen[m.waMessageId]=1; bubble('in',render(m.body),'business · '+m.acceptedAt) });
    }catch(e){}
    setTimeout(poll,1000);
  }
  $('f').addEventListener('submit',async function(e){
    e.preventDefault(); var text=$('text').value; if(!text.trim())return;
    var r=await fetch('/sandbox/customers/'+encodeURIComponent($('waId').value)+'/messages',{method:'POST',headers:{'content-type':'application/json'},
      body:JSON.stringify({text:text,name:$('name').value,phoneNumberId:$('pn').value})});
    var j=await r.json().catch(function(){return {}});
    bubble('out',text,r.ok?(j.delivered?'delivered to Switchboard':'Switchboard did not accept the webhook'):('error: '+String(j.message||r.status)));
    $('text').value='';
  });
  poll();
})();
</script>
</body></html>`;
}
