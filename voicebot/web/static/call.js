// Clicking a transcript line's time plays the recording from that moment.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) { return; }
  document.querySelectorAll("#transcript .seek").forEach(function (button) {
    button.addEventListener("click", function () {
      var start = parseFloat(button.getAttribute("data-t")) || 0;
      document.querySelectorAll("#transcript li.playing").forEach(function (li) {
        li.classList.remove("playing");
      });
      button.parentElement.classList.add("playing");
      player.currentTime = start;
      player.setAttribute("data-started-from", String(start));
      var playing = player.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    });
  });
})();
