#include "cli/run.hpp"

int main(int argc, char** argv)
{
  return vtc::cli::run(argc, argv);
}
